import Foundation
import Kernel
import Platform
import SQLKit

/// `crm_custom_fields`: the tenant's own fields per kind of record.
struct CustomFieldStore: Sendable {
    func insert(_ field: CustomField, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_custom_fields (tenant_id, id, entity, key, label, type, options, created_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(field.id.rawValue)), \(bind: field.entity.rawValue),
                    \(bind: field.key), \(bind: field.label), \(bind: field.kind.rawValue),
                    \(bind: try JSONDocument.text(field.options)), \(bind: field.createdAt.epochMilliseconds))
            """
        ).run()
    }

    /// The tenant's fields of `entity` (all kinds when `nil`), oldest first.
    func list(entity: CustomField.Entity?, in tx: Transaction) async throws -> [CustomField] {
        let tenant = try tx.requireTenant()
        var query: SQLQueryString = "SELECT * FROM crm_custom_fields WHERE tenant_id = \(tx.bind(tenant))"
        if let entity { query.appendInterpolation(" AND entity = \(bind: entity.rawValue)" as SQLQueryString) }
        query.appendLiteral(" ORDER BY created_at, id")
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    func find(id: ID<CustomField>, in tx: Transaction) async throws -> CustomField? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM crm_custom_fields WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    func update(_ field: CustomField, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE crm_custom_fields SET label = \(bind: field.label),
                options = \(bind: try JSONDocument.text(field.options))
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(field.id.rawValue))
            """
        ).run()
    }

    func delete(id: ID<CustomField>, in tx: Transaction) async throws -> CustomField? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            DELETE FROM crm_custom_fields WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING *
            """
        ).first().map(Self.decode)
    }

    static func decode(_ row: any SQLRow) throws -> CustomField {
        CustomField(
            id: ID(try row.decodeUUID(column: "id")),
            entity: CustomField.Entity(rawValue: try row.decode(column: "entity", as: String.self)) ?? .lead,
            key: try row.decode(column: "key", as: String.self), label: try row.decode(column: "label", as: String.self),
            kind: CustomField.Kind(rawValue: try row.decode(column: "type", as: String.self)) ?? .text,
            options: try row.json("options", as: [String].self), createdAt: try row.date("created_at"))
    }
}
