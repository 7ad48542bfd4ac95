import Foundation
import Kernel
import Platform

/// The events the CRM commits with its changes: `crm.<record>.created` (the record), `crm.<record>.updated`
/// (`{id, changes: {field: {before, after}}, merged}`), `crm.<record>.deleted` (`{id}`) for leads, contacts and
/// companies, and `crm.lead.qualified` (the lead).
enum CRMEvents {
    static let leadQualified = "crm.lead.qualified"

    /// Appends an event about record `id` of kind `entity` (its aggregate: one record's events keep their order).
    static func append(
        _ type: String, _ data: some Encodable & Sendable, entity: String, id: UUID, traceparent: String?,
        in tx: Transaction
    ) async throws {
        try await Outbox.append(
            EventEnvelope(
                source: "/crm", type: type, subject: id.lowercasedString, tenant: try tx.requireTenant(),
                traceparent: traceparent, data: try JSONDocument(encoding: data)),
            aggregateType: entity, aggregateID: id.lowercasedString, in: tx)
    }
}
