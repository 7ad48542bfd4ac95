import Foundation
import Kernel
import Platform
import SQLKit
import SQLiteNIO
import TestSupport
import Testing

@Suite struct SQLiteDatabaseTests {
    @Test func runsInWALModeWithForeignKeysOn() async throws {
        try await withTestDatabase(.sqlite) { database, _ in
            let (mode, foreignKeys) = try await database.system { tx in
                (
                    try await tx.sql.raw("PRAGMA journal_mode").first(decodingColumn: "journal_mode", as: String.self),
                    try await tx.sql.raw("PRAGMA foreign_keys").first(decodingColumn: "foreign_keys", as: Int.self)
                )
            }
            #expect(mode == "wal")
            #expect(foreignKeys == 1)
        }
    }

    @Test func concurrentWritersAreSerialisedWithoutLosingAnyWrite() async throws {
        let counter = Migration(module: "counter", number: 1, name: "create_counter") { _ in
            [
                "CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
                "INSERT INTO counter VALUES (1, 0)",
            ]
        }
        try await withTestDatabase(.sqlite, migrations: [counter]) { database, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await database.system { tx in
                            let value =
                                try await tx.sql.raw("SELECT value FROM counter WHERE id = 1")
                                .first(decodingColumn: "value", as: Int.self) ?? 0
                            try await tx.sql.raw("UPDATE counter SET value = \(bind: value + 1) WHERE id = 1").run()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let final = try await database.systemRead { tx in
                try await tx.sql.raw("SELECT value FROM counter WHERE id = 1").first(
                    decodingColumn: "value", as: Int.self)
            }
            #expect(final == 50)
        }
    }

    @Test func readersCannotWrite() async throws {
        try await withTestDatabase(.sqlite) { database, _ in
            let error = await #expect(throws: SQLiteError.self) {
                try await database.read(tenant: .generate()) { tx in
                    try await tx.sql.raw("DELETE FROM tenants").run()
                }
            }
            #expect(error?.reason == .readOnly)
        }
    }

    @Test func failedTransactionRollsBack() async throws {
        try await withTestDatabase(.sqlite) { database, _ in
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.system { tx in
                    try await tx.sql.raw(
                        "INSERT INTO tenants (id, slug, name, status, plan, created_at) VALUES ('x', 'gone', 'Gone', 'active', 'standard', 0)"
                    ).run()
                    throw Abort()
                }
            }
            let found = try await TenantStore(database: database).find(slug: "gone")
            #expect(found == nil)
        }
    }
}
