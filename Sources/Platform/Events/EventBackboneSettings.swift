import Foundation
import Kernel

/// How the in-database event transport behaves.
package struct EventBackboneSettings: Sendable {
    /// Events handed out per relay transaction, and deliveries claimed per consumer worker at once.
    package var batchSize = 200
    /// Concurrent workers per consumer group in this process.
    package var workersPerGroup = 4
    /// How long a claimed delivery stays with its worker; a worker that died (or hangs) loses it after this.
    package var lease: Duration = .seconds(30)
    /// Tries before an event goes to the dead letters.
    package var maxAttempts = 8
    /// The wait before the second try; each further wait is four times longer (0.5 s, 2 s, 8 s, 32 s, ...).
    package var firstRetryDelay: Duration = .milliseconds(500)
    package var maxRetryDelay: Duration = .seconds(3_600)
    /// How often idle relays and workers look for work written by other processes.
    package var pollInterval: Duration = .milliseconds(100)
    /// How long dead letters and processed-event ids are kept.
    package var retention: Duration = .seconds(7 * 86_400)
    /// PostgreSQL `LISTEN` for wake-ups (false behind a transaction-pooling PgBouncer, which cannot listen:
    /// relays and workers then only poll).
    package var notifications = true

    package init() {}

    /// The defaults with the configuration's `event_max_attempts` and `event_workers`.
    package init(_ configuration: InopsioConfiguration) {
        maxAttempts = configuration.eventMaxAttempts
        workersPerGroup = configuration.eventWorkers
        notifications = configuration.eventNotifications
    }

    /// The wait after failed try number `attempt` (1-based).
    package func retryDelay(afterAttempt attempt: Int) -> Duration {
        var delay = firstRetryDelay
        for _ in 1..<max(1, attempt) {
            delay *= 4
            if delay >= maxRetryDelay { return maxRetryDelay }
        }
        return min(delay, maxRetryDelay)
    }
}

/// An event a consumer group gave up on after its tries, kept for inspection and replay.
package struct DeadLetter: Sendable, Equatable, Encodable {
    package let group: String
    package let eventID: String
    package let eventType: String
    package let aggregateKey: String
    package let tenant: TenantID
    package let attempts: Int
    package let lastError: String
    package let deadAt: Date

    /// As `inopsio events dead-letters` prints it and the API answers it.
    enum CodingKeys: String, CodingKey {
        case group, tenant, attempts
        case eventID = "event_id"
        case eventType = "type"
        case aggregateKey = "aggregate"
        case lastError = "last_error"
        case deadAt = "dead_at"
    }
}
