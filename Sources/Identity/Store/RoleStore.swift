import Foundation
import Kernel
import Platform
import SQLKit

/// Custom roles of a tenant (built-in roles are not stored).
struct RoleStore: Sendable {
    func list(in tx: Transaction) async throws -> [Role] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_roles WHERE tenant_id = \(tx.bind(tenant)) ORDER BY name"
        ).all().map(Self.decode)
    }

    func find(name: String, in tx: Transaction) async throws -> Role? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_roles WHERE tenant_id = \(tx.bind(tenant)) AND name = \(bind: name)"
        ).first().map(Self.decode)
    }

    func insert(_ role: Role, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let inserted = try await tx.sql.raw(
            """
            INSERT INTO identity_roles (tenant_id, name, description, permissions, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(bind: role.name), \(bind: role.description),
                    \(bind: Self.encode(role.permissions)), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            ON CONFLICT (tenant_id, name) DO NOTHING
            RETURNING name
            """
        ).first()
        guard inserted != nil else { throw DomainError.conflict("a role named \(role.name) already exists") }
    }

    func update(_ role: Role, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_roles SET description = \(bind: role.description),
                permissions = \(bind: Self.encode(role.permissions)), updated_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND name = \(bind: role.name)
            """
        ).run()
    }

    /// Deletes the role and removes it from every user; false when there was no such role.
    func delete(name: String, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM identity_user_roles WHERE tenant_id = \(tx.bind(tenant)) AND role = \(bind: name)"
        ).run()
        return try await tx.sql.raw(
            "DELETE FROM identity_roles WHERE tenant_id = \(tx.bind(tenant)) AND name = \(bind: name) RETURNING name"
        ).first() != nil
    }

    static func encode(_ permissions: [Permission]) -> String {
        "[" + permissions.map { "\"\($0.description)\"" }.sorted().joined(separator: ",") + "]"
    }

    static func decode(_ row: any SQLRow) throws -> Role {
        let text = try row.decode(column: "permissions", as: String.self)
        let permissions = try JSONDecoder().decode([Permission].self, from: Data(text.utf8))
        return Role(
            name: try row.decode(column: "name", as: String.self),
            description: try row.decode(column: "description", as: String.self), permissions: permissions,
            builtIn: false)
    }
}
