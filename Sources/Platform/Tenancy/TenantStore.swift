import Foundation
import Kernel
import SQLKit

/// Creates and finds tenants. `tenants` is a platform table (not tenant-owned), so it is read and written in
/// system transactions.
package struct TenantStore: Sendable {
    let database: any Database

    package init(database: any Database) {
        self.database = database
    }

    /// Creates an active tenant; 409-style `DomainError.conflict` if the slug is taken.
    package func create(slug: String, name: String, plan: String = "standard", now: Date = Date()) async throws
        -> Tenant
    {
        let issues = TenantRules.validate(slug: slug, name: name, plan: plan)
        guard issues.isEmpty else { throw DomainError.validation(issues) }
        let tenant = Tenant(
            id: .generate(), slug: slug, name: name, status: .active, plan: plan,
            createdAt: Date(epochMilliseconds: now.epochMilliseconds))
        return try await database.system { tx in try await Self.insert(tenant, in: tx) }
    }

    /// Inserts `tenant` inside an open transaction (sign-up creates the tenant and its first user in one).
    @discardableResult
    package static func insert(_ tenant: Tenant, in tx: Transaction) async throws -> Tenant {
        let inserted = try await tx.sql.raw(
            """
            INSERT INTO tenants (id, slug, name, status, plan, created_at)
            VALUES (\(tx.bind(tenant.id)), \(bind: tenant.slug), \(bind: tenant.name), \(bind: tenant.status.rawValue),
                    \(bind: tenant.plan), \(bind: tenant.createdAt.epochMilliseconds))
            ON CONFLICT (slug) DO NOTHING
            RETURNING slug
            """
        ).first()
        guard inserted != nil else { throw DomainError.conflict("a tenant with slug \(tenant.slug) already exists") }
        return tenant
    }

    /// Renames a tenant; false when there is no such tenant.
    @discardableResult
    package static func rename(_ id: TenantID, to name: String, in tx: Transaction) async throws -> Bool {
        try await tx.sql.raw("UPDATE tenants SET name = \(bind: name) WHERE id = \(tx.bind(id)) RETURNING id").first()
            != nil
    }

    package func find(slug: String) async throws -> Tenant? {
        try await database.systemRead { tx in
            try await tx.sql.raw("SELECT * FROM tenants WHERE slug = \(bind: slug)").first().map(TenantStore.decode)
        }
    }

    package func find(id: TenantID) async throws -> Tenant? {
        try await database.systemRead { tx in
            try await tx.sql.raw("SELECT * FROM tenants WHERE id = \(tx.bind(id))").first().map(TenantStore.decode)
        }
    }

    /// Tenants ordered by slug, `limit` at a time, starting after `afterSlug`.
    package func list(limit: Int, afterSlug: String?) async throws -> [Tenant] {
        try await database.systemRead { tx in
            let rows = try await tx.sql.raw(
                """
                SELECT * FROM tenants WHERE slug > \(bind: afterSlug ?? "") ORDER BY slug LIMIT \(bind: limit)
                """
            ).all()
            return try rows.map(TenantStore.decode)
        }
    }

    /// Moves a tenant to another plan (`standard`, `enterprise`); returns false if there is no such tenant.
    @discardableResult
    package func setPlan(_ plan: String, of id: TenantID) async throws -> Bool {
        guard TenantRules.plans.contains(plan) else {
            throw DomainError.validation([
                FieldIssue(
                    field: "plan", code: "invalid_value",
                    message: "must be one of \(TenantRules.plans.sorted().joined(separator: ", "))")
            ])
        }
        return try await database.system { tx in
            try await tx.sql.raw("UPDATE tenants SET plan = \(bind: plan) WHERE id = \(tx.bind(id)) RETURNING id")
                .first() != nil
        }
    }

    /// Suspends or reactivates a tenant; returns false if there is no such tenant.
    @discardableResult
    package func setStatus(_ status: Tenant.Status, of id: TenantID) async throws -> Bool {
        try await database.system { tx in
            try await tx.sql.raw(
                "UPDATE tenants SET status = \(bind: status.rawValue) WHERE id = \(tx.bind(id)) RETURNING id"
            ).first() != nil
        }
    }

    static func decode(_ row: any SQLRow) throws -> Tenant {
        Tenant(
            id: TenantID(try row.decodeUUID(column: "id")),
            slug: try row.decode(column: "slug", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            status: Tenant.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .suspended,
            plan: try row.decode(column: "plan", as: String.self),
            createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)))
    }
}
