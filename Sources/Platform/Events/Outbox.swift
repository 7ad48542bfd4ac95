import Foundation
import Kernel
import SQLKit

/// The transactional outbox: a module writes its domain events in the transaction that makes the change, so an
/// event exists if and only if its change committed. The relay (`EventBackbone.relayBatch`) later hands each event
/// to the consumer groups subscribed to its type.
package enum Outbox {
    /// One event to append, with the record it is about (`lead`, its id): events of one aggregate reach each
    /// consumer group in the order they were committed.
    package struct Entry: Sendable {
        package let event: EventEnvelope
        package let aggregateType: String
        package let aggregateID: String

        package init(_ event: EventEnvelope, aggregateType: String, aggregateID: String) {
            self.event = event
            self.aggregateType = aggregateType
            self.aggregateID = aggregateID
        }
    }

    /// Writes `event` in `transaction`.
    package static func append(
        _ event: EventEnvelope, aggregateType: String, aggregateID: String, in transaction: Transaction
    ) async throws {
        try await append([Entry(event, aggregateType: aggregateType, aggregateID: aggregateID)], in: transaction)
    }

    /// Writes `entries` in `transaction`, up to 500 per statement (an import or a bulk change writes many).
    package static func append(_ entries: [Entry], in transaction: Transaction) async throws {
        guard !entries.isEmpty else { return }
        var rows: [SQLQueryString] = []
        rows.reserveCapacity(entries.count)
        for entry in entries {
            let event = entry.event
            guard let tenant = TenantID(event.tenantid) else { throw OutboxError.invalidTenant(event.tenantid) }
            if let scoped = transaction.tenant, scoped != tenant { throw OutboxError.tenantMismatch }
            guard !entry.aggregateType.isEmpty, !entry.aggregateID.isEmpty, !event.type.isEmpty else {
                throw OutboxError.missingField
            }
            let payload = event.jsonText
            let payloadValue: SQLQueryString =
                switch transaction.dialect {
                case .postgres: "CAST(\(bind: payload) AS JSONB)"
                case .sqlite: "\(bind: payload)"
                }
            let created = RFC3339.date(from: event.time)?.epochMilliseconds ?? Date().epochMilliseconds
            rows.append(
                """
                (\(bind: event.id), \(bind: entry.aggregateType), \(bind: entry.aggregateID), \(bind: event.type),
                 \(payloadValue), \(transaction.bind(tenant)), \(bind: event.traceparent), \(bind: created))
                """)
        }
        for start in stride(from: 0, to: rows.count, by: 500) {
            var statement: SQLQueryString =
                "INSERT INTO event_outbox (id, aggregatetype, aggregateid, type, payload, tenant_id, traceparent, created_at) VALUES "
            for (index, row) in rows[start..<min(start + 500, rows.count)].enumerated() {
                if index > 0 { statement.appendLiteral(", ") }
                statement.appendInterpolation(row)
            }
            try await transaction.sql.raw(statement).run()
        }
        switch transaction.dialect {
        case .postgres:
            // Wakes the relays (their listeners) once the transaction has committed; folded together with other
            // transactions' (see `notifyAfterCommit`).
            try await transaction.notifyAfterCommit(channel: notificationChannel, payload: "outbox")
        case .sqlite:
            // Before the commit, but this process's relay can only write after it (one writer): it looks then.
            appended.signal()
        }
    }

    /// The PostgreSQL notification channel of the event backbone (payload `outbox` or `deliveries`).
    package static let notificationChannel = "inopsio_events"
    /// Rung in this process when an event is appended on SQLite.
    package static let appended = EventSignal()
}

package enum OutboxError: Error, Equatable, CustomStringConvertible {
    case invalidTenant(String)
    case tenantMismatch
    case missingField

    package var description: String {
        switch self {
        case .invalidTenant(let text): "the event's tenantid \(text) is not a tenant id"
        case .tenantMismatch: "the event belongs to another tenant than the transaction writing it"
        case .missingField: "an event needs a type, an aggregate type and an aggregate id"
        }
    }
}
