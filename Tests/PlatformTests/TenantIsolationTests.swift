import Foundation
import Kernel
import Platform
import SQLKit
import Testing
import TestSupport

/// The second wall of tenant isolation: on PostgreSQL, row-level security hides other tenants' rows even from
/// a query that forgets its `WHERE tenant_id`.
@Suite struct TenantIsolationTests {
    static let notes = Migration(module: "notes", number: 1, name: "create_notes") { dialect in
        [
            "CREATE TABLE notes (tenant_id \(dialect.uuidType) NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant_id, id))"
        ] + TenantIsolation.statements(table: "notes", dialect: dialect)
    }

    static func insert(_ database: any Database, tenant: TenantID, id: Int, body: String) async throws {
        try await database.write(tenant: tenant) { tx in
            try await tx.sql.raw("INSERT INTO notes (tenant_id, id, body) VALUES (\(tx.bind(tenant)), \(bind: id), \(bind: body))")
                .run()
        }
    }

    @Test func queryWithoutTenantFilterSeesOnlyTheCurrentTenantOnPostgres() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            let acme = TenantID.generate()
            let globex = TenantID.generate()
            try await Self.insert(database, tenant: acme, id: 1, body: "acme secret")
            try await Self.insert(database, tenant: globex, id: 1, body: "globex secret")
            try await Self.insert(database, tenant: globex, id: 2, body: "globex plan")

            // Deliberately no WHERE tenant_id: the policy must filter.
            let seenByAcme = try await database.read(tenant: acme) { tx in
                try await tx.sql.raw("SELECT body FROM notes ORDER BY id").all(decodingColumn: "body", as: String.self)
            }
            #expect(seenByAcme == ["acme secret"])
            let seenByGlobex = try await database.write(tenant: globex) { tx in
                try await tx.sql.raw("SELECT body FROM notes ORDER BY id").all(decodingColumn: "body", as: String.self)
            }
            #expect(seenByGlobex == ["globex secret", "globex plan"])
            // Updates and deletes without a tenant filter cannot reach the other tenant either.
            let touched = try await database.write(tenant: acme) { tx in
                try await tx.sql.raw("UPDATE notes SET body = 'overwritten' RETURNING id").all().count
            }
            #expect(touched == 1)
            let all = try await database.systemRead { tx in
                try await tx.sql.raw("SELECT body FROM notes ORDER BY body").all(decodingColumn: "body", as: String.self)
            }
            #expect(all == ["globex plan", "globex secret", "overwritten"])
        }
    }

    @Test func writingARowForAnotherTenantIsRejectedOnPostgres() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
            let acme = TenantID.generate()
            let globex = TenantID.generate()
            await #expect(throws: (any Error).self) {
                try await database.write(tenant: acme) { tx in
                    try await tx.sql.raw(
                        "INSERT INTO notes (tenant_id, id, body) VALUES (\(tx.bind(globex)), \(bind: 1), \(bind: "planted"))"
                    ).run()
                }
            }
            let count = try await database.systemRead { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM notes").first(decodingColumn: "n", as: Int.self)
            }
            #expect(count == 0)
        }
    }

    @Test func systemTransactionsSeeAllTenantsAndTenantIsKnownInScopedOnes() async throws {
        for backend in TestBackend.available {
            try await withTestDatabase(backend, migrations: PlatformMigrations.all + [Self.notes]) { database, _ in
                let acme = TenantID.generate()
                try await Self.insert(database, tenant: acme, id: 1, body: "a")
                try await Self.insert(database, tenant: .generate(), id: 1, body: "b")
                let total = try await database.systemRead { tx in
                    try await tx.sql.raw("SELECT COUNT(*) AS n FROM notes").first(decodingColumn: "n", as: Int.self)
                }
                #expect(total == 2)
                let scoped = try await database.read(tenant: acme) { tx in try tx.requireTenant() }
                #expect(scoped == acme)
                await #expect(throws: DatabaseError.self) {
                    try await database.systemRead { tx in try tx.requireTenant() }
                }
            }
        }
    }
}
