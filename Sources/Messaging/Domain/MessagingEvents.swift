import Foundation
import Kernel
import Platform

/// The events Messaging commits with its changes (for webhooks, live updates and other modules).
enum MessagingEvents {
    /// `messaging.campaign.status_changed`: `{id, name, status}`.
    static let campaignStatusChanged = "messaging.campaign.status_changed"
    /// `messaging.campaign.progressed`: after each batch, `{id, results}`.
    static let campaignProgressed = "messaging.campaign.progressed"
    /// `messaging.message.bounced`: `{id, campaign_id, email, error}`.
    static let messageBounced = "messaging.message.bounced"
    /// `messaging.contact.unsubscribed`: `{email, message_id, campaign_id}`.
    static let contactUnsubscribed = "messaging.contact.unsubscribed"

    static func append(
        _ type: String, _ data: [String: JSONValue], aggregate: (type: String, id: String), in tx: Transaction
    ) async throws {
        try await Outbox.append(
            EventEnvelope(
                source: "/messaging", type: type, subject: aggregate.id, tenant: try tx.requireTenant(),
                traceparent: nil, data: try JSONDocument(encoding: data)),
            aggregateType: aggregate.type, aggregateID: aggregate.id, in: tx)
    }

    static func campaign(_ campaign: Campaign, in tx: Transaction) async throws {
        try await append(
            campaignStatusChanged,
            [
                "id": .string(campaign.id.description), "name": .string(campaign.name),
                "status": .string(campaign.status.rawValue),
            ], aggregate: ("campaign", campaign.id.description), in: tx)
    }

    static func progress(_ campaign: ID<Campaign>, _ results: CampaignResults, in tx: Transaction) async throws {
        let counts = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(results))
        try await append(
            campaignProgressed, ["id": .string(campaign.description), "results": counts],
            aggregate: ("campaign", campaign.description), in: tx)
    }
}
