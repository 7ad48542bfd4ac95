import Synchronization

/// Extra facts `/ready` reports beside its checks, from modules: a degraded mode that does not make the process
/// unready (the gateway's rate limits falling back to local counters, say) but that operators must see.
package final class ReadinessDetails: Sendable {
    private let probes = Mutex<[(name: String, probe: @Sendable () -> String)]>([])

    package init() {}

    /// Adds a detail; `probe` is asked on every `/ready` request and must be quick.
    package func register(_ name: String, _ probe: @escaping @Sendable () -> String) {
        probes.withLock { $0.append((name, probe)) }
    }

    /// The current details, in registration order.
    package func snapshot() -> [(name: String, value: String)] {
        probes.withLock { $0 }.map { ($0.name, $0.probe()) }
    }
}
