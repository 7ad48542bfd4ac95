import Foundation
import Kernel
import Platform
import PostgresNIO
import SQLKit
import TestSupport
import Testing

/// The second wall of tenant isolation: on PostgreSQL, row-level security hides other tenants' rows even from
/// a query that forgets its `WHERE tenant_id`.
@Suite(.enabled(if: TestBackend.available.contains(.postgres), "needs PostgreSQL (scripts/test provides it)"))
struct TenantIsolationTests {
    static let notes = Migration(module: "notes", number: 1, name: "create_notes") { dialect in
        [
            "CREATE TABLE notes (tenant_id \(dialect.uuidType) NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant_id, id))"
        ] + TenantIsolation.statements(table: "notes", dialect: dialect)
    }

    static func insert(_ database: any Database, tenant: TenantID, id: Int, body: String) async throws {
        try await database.write(tenant: tenant) { tx in
            try await tx.sql.raw(
                "INSERT INTO notes (tenant_id, id, body) VALUES (\(tx.bind(tenant)), \(bind: id), \(bind: body))"
            )
            .run()
        }
    }

    static func bodies(_ database: any Database, tenant: TenantID) async throws -> [String] {
        try await database.read(tenant: tenant) { tx in
            // Deliberately no WHERE tenant_id: the policy must filter.
            try await tx.sql.raw("SELECT body FROM notes ORDER BY id").all(decodingColumn: "body", as: String.self)
        }
    }

    @Test func queryWithoutTenantFilterSeesOnlyTheCurrentTenant() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            let acme = TenantID.generate()
            let globex = TenantID.generate()
            try await Self.insert(database, tenant: acme, id: 1, body: "acme secret")
            try await Self.insert(database, tenant: globex, id: 1, body: "globex secret")
            try await Self.insert(database, tenant: globex, id: 2, body: "globex plan")
            #expect(try await Self.bodies(database, tenant: acme) == ["acme secret"])
            #expect(try await Self.bodies(database, tenant: globex) == ["globex secret", "globex plan"])
        }
    }

    @Test func updateWithoutTenantFilterTouchesOnlyTheCurrentTenant() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            let acme = TenantID.generate()
            let globex = TenantID.generate()
            try await Self.insert(database, tenant: acme, id: 1, body: "acme")
            try await Self.insert(database, tenant: globex, id: 1, body: "globex")
            let touched = try await database.write(tenant: acme) { tx in
                try await tx.sql.raw("UPDATE notes SET body = 'overwritten' RETURNING id").all().count
            }
            #expect(touched == 1)
            #expect(try await Self.bodies(database, tenant: globex) == ["globex"])
        }
    }

    @Test func writingARowForAnotherTenantIsRejectedByThePolicy() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            let acme = TenantID.generate()
            let globex = TenantID.generate()
            let error = await #expect(throws: PSQLError.self) {
                try await database.write(tenant: acme) { tx in
                    try await tx.sql.raw(
                        "INSERT INTO notes (tenant_id, id, body) VALUES (\(tx.bind(globex)), \(bind: 1), \(bind: "planted"))"
                    ).run()
                }
            }
            // 42501: new row violates row-level security policy.
            #expect(error?.serverInfo?[.sqlState] == "42501")
            let seen = try await Self.bodies(database, tenant: globex)
            #expect(seen.isEmpty)
        }
    }

    @Test func transactionsWithoutATenantSeeNoTenantRows() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            try await Self.insert(database, tenant: .generate(), id: 1, body: "a")
            let visible = try await database.systemRead { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM notes").first(decodingColumn: "n", as: Int.self)
            }
            #expect(visible == 0)
        }
    }
}

@Suite struct TransactionScopeTests {
    @Test(arguments: TestBackend.available)
    func scopedTransactionsKnowTheirTenantAndSystemOnesDoNot(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let acme = TenantID.generate()
            let readScope = try await database.read(tenant: acme) { tx in try tx.requireTenant() }
            let writeScope = try await database.write(tenant: acme) { tx in try tx.requireTenant() }
            #expect(readScope == acme)
            #expect(writeScope == acme)
            await #expect(throws: DatabaseError.self) {
                try await database.systemRead { tx in try tx.requireTenant() }
            }
        }
    }
}
