import Foundation
import Kernel
import Logging

/// Reacts to domain events of the given types, idempotently, inside the consumer's own transaction.
package protocol EventConsumer: Sendable {
    /// The consumer group name; each group sees every event once.
    var group: String { get }
    var eventTypes: [String] { get }
    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws
}
