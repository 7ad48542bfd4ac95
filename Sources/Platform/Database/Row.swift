import Foundation
import Kernel
import Logging
import PostgresNIO
import SQLKit

/// A row of a result, read column by column into the few types stores keep: text, whole numbers, UUIDs, times (as
/// epoch milliseconds) and JSON text. Rows from `Transaction.rows` on PostgreSQL decode each cell with PostgresNIO
/// directly; SQLKit's PostgreSQL rows go through `Codable` machinery per cell (a coding path string, dynamic casts),
/// which was a quarter of the server's time listing a page of 50 leads (BENCHMARKS.md, "CRM"). Any other `SQLRow`
/// (SQLite, or a statement run through SQLKit) is read through SQLKit as before, with the same results.
package struct Row: Sendable {
    enum Storage: Sendable {
        case postgres(PostgresRandomAccessRow, ColumnIndex)
        case sql(any SQLRow)
    }

    /// Where each column is in the rows of one result (shared by them: one look-up per cell).
    final class ColumnIndex: Sendable {
        let positions: [String: Int]

        init(_ row: PostgresRow) {
            var positions: [String: Int] = [:]
            for cell in row where positions[cell.columnName] == nil { positions[cell.columnName] = cell.columnIndex }
            self.positions = positions
        }
    }

    let storage: Storage

    package init(_ row: any SQLRow) { storage = .sql(row) }

    init(postgres row: PostgresRow, columns: ColumnIndex) { storage = .postgres(row.makeRandomAccess(), columns) }

    struct MissingColumn: Error, CustomStringConvertible {
        let column: String
        var description: String { "the result has no column \(column)" }
    }

    private func cell(_ row: PostgresRandomAccessRow, _ columns: ColumnIndex, _ column: String) throws -> PostgresCell {
        guard let position = columns.positions[column] else { throw MissingColumn(column: column) }
        return row[position]
    }

    /// `column` as `T`: a PostgreSQL cell decoded by PostgresNIO, any other row's value through SQLKit.
    private func value<T: PostgresDecodable & Decodable>(_ column: String, as type: T.Type) throws -> T {
        switch storage {
        case .postgres(let row, let columns): try cell(row, columns, column).decode(T.self)
        case .sql(let row): try row.decode(column: column, as: T.self)
        }
    }

    package func string(_ column: String) throws -> String { try value(column, as: String.self) }
    package func optionalString(_ column: String) throws -> String? { try value(column, as: String?.self) }
    package func int(_ column: String) throws -> Int { try value(column, as: Int.self) }
    package func optionalInt(_ column: String) throws -> Int? { try value(column, as: Int?.self) }
    package func int64(_ column: String) throws -> Int64 { try value(column, as: Int64.self) }
    package func optionalInt64(_ column: String) throws -> Int64? { try value(column, as: Int64?.self) }

    /// A UUID stored natively (PostgreSQL) or as text (SQLite).
    package func uuid(_ column: String) throws -> UUID {
        switch storage {
        case .postgres(let row, let columns): try cell(row, columns, column).decode(UUID.self)
        case .sql(let row): try row.decodeUUID(column: column)
        }
    }

    package func optionalUUID(_ column: String) throws -> UUID? {
        switch storage {
        case .postgres(let row, let columns): try cell(row, columns, column).decode(UUID?.self)
        case .sql(let row): try row.decodeOptionalUUID(column: column)
        }
    }

    /// A time stored as epoch milliseconds.
    package func date(_ column: String) throws -> Date { Date(epochMilliseconds: try int64(column)) }

    package func optionalDate(_ column: String) throws -> Date? {
        try optionalInt64(column).map(Date.init(epochMilliseconds:))
    }

    /// A JSON text column decoded. Lists of text and objects of JSON values (tags, custom fields: most of the
    /// stores' JSON columns) are read with Kernel's parser, anything else with `JSONDecoder`.
    package func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        let text = try string(column)
        if T.self == [String: JSONValue].self, case .object(let members) = try JSONValue(parsing: text),
            let result = members as? T
        {
            return result
        }
        if T.self == [String].self, case .array(let items) = try JSONValue(parsing: text) {
            let strings = items.compactMap { item -> String? in
                if case .string(let text) = item { text } else { nil }
            }
            if strings.count == items.count, let result = strings as? T { return result }
        }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

/// What a transaction on PostgreSQL needs to run a statement outside SQLKit (`Transaction.rows`).
struct PostgresAccess: Sendable {
    let connection: PostgresConnection
    let logger: Logger
}

extension Transaction {
    /// Runs a statement and returns its rows (`Row`). On PostgreSQL it goes to the connection directly when every
    /// bound value is of a type the query can carry as is (text, whole numbers, UUIDs, booleans, doubles, lists of
    /// text, nulls), else through SQLKit, as on SQLite.
    package func rows(_ statement: SQLQueryString) async throws -> [Row] {
        if let postgres {
            var serializer = SQLSerializer(database: sql)
            statement.serialize(to: &serializer)
            if let bindings = try Self.postgresBindings(serializer.binds) {
                let rows = try await postgres.connection.query(
                    PostgresQuery(unsafeSQL: serializer.sql, binds: bindings), logger: postgres.logger
                ).collect()
                guard let first = rows.first else { return [] }
                let columns = Row.ColumnIndex(first)
                return rows.map { Row(postgres: $0, columns: columns) }
            }
        }
        return try await sql.raw(statement).all().map(Row.init)
    }

    /// The binds as PostgreSQL bindings, encoded as SQLKit's PostgreSQL driver encodes them; nil when one is of
    /// another type.
    static func postgresBindings(_ binds: [any Encodable & Sendable]) throws -> PostgresBindings? {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            if let optional = bind as? any OptionalBind, optional.isNone {
                bindings.appendNull()
                continue
            }
            switch bind {
            case let value as String: bindings.append(value)
            case let value as Int: bindings.append(value)
            case let value as Int64: bindings.append(value)
            case let value as Int32: bindings.append(value)
            case let value as UUID: bindings.append(value)
            case let value as Bool: bindings.append(value)
            case let value as Double: bindings.append(value)
            case let value as [String]: bindings.append(value)
            default: return nil
            }
        }
        return bindings
    }
}

/// Tells a bound `nil` from a value (a cast of an `Optional` to its wrapped type looks through it).
private protocol OptionalBind {
    var isNone: Bool { get }
}

extension Optional: OptionalBind {
    var isNone: Bool { self == nil }
}
