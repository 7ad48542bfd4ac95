import Foundation
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

/// `Transaction.rows` reads the same values as SQLKit does (`Row` over an `SQLRow`), whichever way a statement
/// goes: to PostgreSQL directly, or through SQLKit (SQLite, or binds of other types).
@Suite struct RowTests {
    static let table = Migration(module: "rowtest", number: 1, name: "create_items") { dialect in
        let uuid = dialect == .postgres ? "UUID" : "TEXT"
        return [
            """
            CREATE TABLE row_items (
                id \(uuid) NOT NULL, other_id \(uuid), name TEXT NOT NULL, note TEXT, count INTEGER NOT NULL,
                big BIGINT NOT NULL, maybe BIGINT, tags TEXT NOT NULL, at BIGINT NOT NULL, flag BOOLEAN NOT NULL)
            """
        ]
    }

    struct Item: Equatable {
        var id: UUID
        var otherID: UUID?
        var name: String
        var note: String?
        var count: Int
        var big: Int64
        var maybe: Int64?
        var tags: [String]
        var fields: [String: JSONValue]?
        var at: Date
        var atMaybe: Date?
        var null: Bool

        init(_ row: Row) throws {
            id = try row.uuid("id")
            otherID = try row.optionalUUID("other_id")
            name = try row.string("name")
            note = try row.optionalString("note")
            count = try row.int("count")
            big = try row.int64("big")
            maybe = try row.optionalInt64("maybe")
            tags = try row.json("tags", as: [String].self)
            fields = name.hasPrefix("{") ? try row.json("name", as: [String: JSONValue].self) : nil
            at = try row.date("at")
            atMaybe = try row.optionalDate("maybe")
            null = try row.optionalString("note") == nil
            #expect(try row.optionalInt("count") == count)
        }
    }

    @Test(arguments: TestBackend.available)
    func directAndSQLKitRowsReadTheSame(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + [Self.table]) { database, _ in
            let ids = (0..<4).map { _ in UUID() }
            try await database.system { tx in
                let rows: [(UUID, UUID?, String, String?, Int, Int64, Int64?, String)] = [
                    (ids[0], nil, "plain", nil, 0, 0, nil, "[]"),
                    (
                        ids[1], ids[0], "ünïcode ✓ \"quoted\"", "a note", -5, Int64.max, 1_700_000_000_123,
                        #"["a","b"]"#
                    ),
                    (ids[2], ids[1], "{}", "", Int(Int32.max), Int64.min, -1, "[]"),
                    (ids[3], nil, #"{"k":[1,2.5,null,"x"]}"#, nil, 7, 42, 0, #"["on\"ly",""]"#),
                ]
                for row in rows {
                    try await tx.sql.raw(
                        """
                        INSERT INTO row_items (id, other_id, name, note, count, big, maybe, tags, at, flag)
                        VALUES (\(tx.bind(row.0)), \(row.1.map { tx.bind($0) } ?? SQLLiteral.null), \(bind: row.2),
                          \(bind: row.3), \(bind: row.4), \(bind: row.5), \(bind: row.6), \(bind: row.7),
                          \(bind: row.5 / 1_000_000), \(bind: row.4 > 0))
                        """
                    ).run()
                }
            }
            try await database.systemRead { tx in
                // Binds of every kind the direct path carries, nulls among them.
                let noNote: String? = nil
                let statement: SQLQueryString = """
                    SELECT * FROM row_items WHERE (note IS NULL OR note <> \(bind: "never")) AND count > \(bind: -100)
                      AND big >= \(bind: Int64.min) AND (CAST(\(bind: noNote) AS TEXT) IS NULL)
                      AND (flag OR \(bind: true))
                      AND id <> \(tx.bind(UUID())) AND \(bind: 1.5) > 0 ORDER BY count
                    """
                let direct = try await tx.rows(statement).map(Item.init)
                let viaSQLKit = try await tx.sql.raw(statement).all().map { try Item(Row($0)) }
                try #require(direct.count == 4)
                #expect(direct == viaSQLKit)
                #expect(direct.map(\.name) == ["ünïcode ✓ \"quoted\"", "plain", #"{"k":[1,2.5,null,"x"]}"#, "{}"])
                #expect(
                    direct[0].maybe == 1_700_000_000_123
                        && direct[0].atMaybe == Date(epochMilliseconds: 1_700_000_000_123))
                #expect(direct[1].otherID == nil && direct[1].null && direct[1].tags == [])
                #expect(direct[0].tags == ["a", "b"] && direct[2].tags == ["on\"ly", ""])
                #expect(direct[2].fields == ["k": [.integer(1), .number(2.5), .null, "x"]])
                #expect(direct[3].fields == [:] && direct[3].note == "")

                // A bind of a type the direct path does not carry (a Date) goes through SQLKit, same rows.
                let fallback = try await tx.rows(
                    "SELECT * FROM row_items WHERE \(bind: Date(timeIntervalSince1970: 0)) IS NOT NULL ORDER BY count")
                #expect(try fallback.map(Item.init) == direct)

                // A column the row does not have is an error, not a crash.
                let one = try #require(try await tx.rows("SELECT name FROM row_items LIMIT 1").first)
                #expect(throws: (any Error).self) { try one.string("nope") }
            }
        }
    }
}
