import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_campaigns`.
struct CampaignStore: Sendable {
    func insert(_ campaign: Campaign, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO messaging_campaigns (tenant_id, id, name, list_id, template_key, status, scheduled_at,
                rate_per_minute, batch_size, created_by, version, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(campaign.id.rawValue)), \(bind: campaign.name),
                    \(tx.bind(campaign.listID.rawValue)), \(bind: campaign.templateKey), \(bind: campaign.status.rawValue),
                    \(bind: campaign.scheduledAt?.epochMilliseconds), \(bind: campaign.ratePerMinute),
                    \(bind: campaign.batchSize), \(bind: campaign.createdBy), 1,
                    \(bind: campaign.createdAt.epochMilliseconds), \(bind: campaign.updatedAt.epochMilliseconds))
            """
        ).run()
    }

    /// Saves the editable fields and the status; false when the version moved on (someone else changed it).
    func update(_ campaign: Campaign, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE messaging_campaigns SET name = \(bind: campaign.name), list_id = \(tx.bind(campaign.listID.rawValue)),
                template_key = \(bind: campaign.templateKey), status = \(bind: campaign.status.rawValue),
                scheduled_at = \(bind: campaign.scheduledAt?.epochMilliseconds),
                started_at = \(bind: campaign.startedAt?.epochMilliseconds),
                finished_at = \(bind: campaign.finishedAt?.epochMilliseconds),
                rate_per_minute = \(bind: campaign.ratePerMinute), batch_size = \(bind: campaign.batchSize),
                version = version + 1, updated_at = \(bind: campaign.updatedAt.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(campaign.id.rawValue))
              AND version = \(bind: expectedVersion)
            RETURNING id
            """
        ).first() != nil
    }

    /// The campaign, locked for update on PostgreSQL (the sender and a pause must not interleave).
    func find(id: ID<Campaign>, forUpdate: Bool = false, in tx: Transaction) async throws -> Campaign? {
        try await findRow(id: id, forUpdate: forUpdate, in: tx).map(Self.decode)
    }

    func findRow(id: ID<Campaign>, forUpdate: Bool = false, in tx: Transaction) async throws -> (any SQLRow)? {
        let tenant = try tx.requireTenant()
        let lock: SQLQueryString = forUpdate && tx.dialect == .postgres ? " FOR UPDATE" : ""
        return try await tx.sql.raw(
            """
            SELECT * FROM messaging_campaigns WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))\(lock)
            """
        ).first()
    }

    func list(limit: Int, after: ID<Campaign>?, status: Campaign.Status?, in tx: Transaction) async throws
        -> [Campaign]
    {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM messaging_campaigns WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        if let after {
            query.appendInterpolation(unsafeRaw: " AND id < ")
            query.appendInterpolation(tx.bind(after.rawValue))
        }
        if let status {
            query.appendInterpolation(unsafeRaw: " AND status = ")
            query.appendInterpolation(bind: status.rawValue)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    func delete(id: ID<Campaign>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            DELETE FROM messaging_campaigns WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
              AND status = 'draft'
            RETURNING id
            """
        ).first() != nil
    }

    /// Starts a new sending run: the token a sender job carries; a job whose token is not the current one stops.
    func setRun(id: ID<Campaign>, token: String?, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE messaging_campaigns SET run_token = \(bind: token)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    func markMaterialized(id: ID<Campaign>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE messaging_campaigns SET materialized_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    static func decode(_ row: any SQLRow) throws -> Campaign {
        Campaign(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            listID: ID(try row.decodeUUID(column: "list_id")),
            templateKey: try row.decode(column: "template_key", as: String.self),
            status: Campaign.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft,
            scheduledAt: try row.optionalDate("scheduled_at"), startedAt: try row.optionalDate("started_at"),
            finishedAt: try row.optionalDate("finished_at"),
            ratePerMinute: try row.decode(column: "rate_per_minute", as: Int.self),
            batchSize: try row.decode(column: "batch_size", as: Int.self),
            createdBy: try row.decode(column: "created_by", as: String?.self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
