import Foundation
import Kernel
import Platform
import SQLKit

struct SavedViewStore: Sendable {
    /// Another view of the user and kind has the name.
    struct DuplicateName: Error {}

    func insert(_ view: SavedView, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        guard try await named(view.name, owner: view.ownerID, entity: view.entity, except: nil, in: tx) == nil else {
            throw DuplicateName()
        }
        try await tx.sql.raw(
            """
            INSERT INTO crm_saved_views (tenant_id, id, owner_id, entity, name, query, shared, version, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(view.id.rawValue)), \(bind: view.ownerID), \(bind: view.entity.rawValue),
                    \(bind: view.name), \(bind: view.query), \(bind: view.shared ? 1 : 0), \(bind: view.version),
                    \(bind: view.createdAt.epochMilliseconds), \(bind: view.updatedAt.epochMilliseconds))
            """
        ).run()
    }

    func update(_ view: SavedView, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        guard try await named(view.name, owner: view.ownerID, entity: view.entity, except: view.id, in: tx) == nil else {
            throw DuplicateName()
        }
        return try await tx.sql.raw(
            """
            UPDATE crm_saved_views SET name = \(bind: view.name), query = \(bind: view.query),
              shared = \(bind: view.shared ? 1 : 0), version = \(bind: view.version),
              updated_at = \(bind: view.updatedAt.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(view.id.rawValue)) AND version = \(bind: expectedVersion)
            RETURNING id
            """
        ).first() != nil
    }

    func find(_ id: UUID, in tx: Transaction) async throws -> SavedView? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM crm_saved_views WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).first().map(Self.decode)
    }

    func delete(_ id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_saved_views WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).run()
    }

    /// The user's own views and the shared ones, of `entity` or of every kind, by name.
    func visible(to owner: String, entity: CustomField.Entity?, in tx: Transaction) async throws -> [SavedView] {
        let tenant = try tx.requireTenant()
        var sql: SQLQueryString = """
            SELECT * FROM crm_saved_views WHERE tenant_id = \(tx.bind(tenant))
              AND (owner_id = \(bind: owner) OR shared = 1)
            """
        if let entity { sql.appendInterpolation(" AND entity = \(bind: entity.rawValue)" as SQLQueryString) }
        sql.appendInterpolation(unsafeRaw: " ORDER BY entity, name, id LIMIT 500")
        return try await tx.sql.raw(sql).all().map(Self.decode)
    }

    func count(owner: String, entity: CustomField.Entity, in tx: Transaction) async throws -> Int {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT COUNT(*) AS n FROM crm_saved_views WHERE tenant_id = \(tx.bind(tenant))
              AND owner_id = \(bind: owner) AND entity = \(bind: entity.rawValue)
            """
        ).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    private func named(
        _ name: String, owner: String, entity: CustomField.Entity, except: ID<SavedView>?, in tx: Transaction
    ) async throws -> SavedView? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM crm_saved_views WHERE tenant_id = \(tx.bind(tenant)) AND owner_id = \(bind: owner)
              AND entity = \(bind: entity.rawValue) AND lower(name) = lower(\(bind: name))
            """
        ).all().map(Self.decode).first { $0.id != except }
    }

    static func decode(_ row: any SQLRow) throws -> SavedView {
        SavedView(
            id: ID(try row.decodeUUID(column: "id")), ownerID: try row.decode(column: "owner_id", as: String.self),
            entity: CustomField.Entity(rawValue: try row.decode(column: "entity", as: String.self)) ?? .lead,
            name: try row.decode(column: "name", as: String.self), query: try row.decode(column: "query", as: String.self),
            shared: try row.decode(column: "shared", as: Int.self) != 0,
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
