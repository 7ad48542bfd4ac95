import Foundation
import Kernel
import Logging

/// Reacts to domain events of the given types, idempotently, inside the consumer's own transaction.
package protocol EventConsumer: Sendable {
    /// The consumer group name; each group sees every event once.
    var group: String { get }
    var eventTypes: [String] { get }
    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws
    /// Applies several events of one tenant, in their order, in `transaction` (scoped to that tenant): what the
    /// backbone hands out together. The default hands them to `handle` one by one; a consumer that can write them
    /// with fewer statements (one insert for all, say) does so here.
    func handle(batch events: [EventEnvelope], in transaction: Transaction) async throws
}

extension EventConsumer {
    package func handle(batch events: [EventEnvelope], in transaction: Transaction) async throws {
        for event in events { try await handle(event, in: transaction) }
    }
}
