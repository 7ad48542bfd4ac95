import Foundation
import Kernel
import Platform
import SQLKit

/// `crm_deal_stage_history`: every stage a deal entered, numbered from 1 (its first stage at creation).
struct DealHistoryStore: Sendable {
    func record(
        deal: ID<Deal>, from: ID<Pipeline.Stage>?, to: ID<Pipeline.Stage>, at: Date, by actor: String?,
        in tx: Transaction
    ) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_deal_stage_history (tenant_id, deal_id, seq, from_stage_id, to_stage_id, moved_at, moved_by)
            SELECT \(tx.bind(tenant)), \(tx.bind(deal.rawValue)), COALESCE(MAX(seq), 0) + 1,
                   \(from.map { tx.bind($0.rawValue) } ?? SQLLiteral.null), \(tx.bind(to.rawValue)),
                   \(bind: at.epochMilliseconds), \(bind: actor)
            FROM crm_deal_stage_history WHERE tenant_id = \(tx.bind(tenant)) AND deal_id = \(tx.bind(deal.rawValue))
            """
        ).run()
    }

    func history(of deal: ID<Deal>, in tx: Transaction) async throws -> [Deal.StageChange] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM crm_deal_stage_history WHERE tenant_id = \(tx.bind(tenant)) AND deal_id = \(tx.bind(deal.rawValue))
            ORDER BY seq
            """
        ).all().map { row in
            Deal.StageChange(
                fromStageID: try row.decodeOptionalUUID(column: "from_stage_id").map(ID.init),
                toStageID: ID(try row.decodeUUID(column: "to_stage_id")), movedAt: try row.date("moved_at"),
                movedBy: try row.decode(column: "moved_by", as: String?.self))
        }
    }

    func delete(deal: ID<Deal>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_deal_stage_history WHERE tenant_id = \(tx.bind(tenant)) AND deal_id = \(tx.bind(deal.rawValue))"
        ).run()
    }
}
