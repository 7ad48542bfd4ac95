import Foundation
import Kernel
import Platform
import Synchronization

/// One event as live clients receive it.
package struct LiveEvent: Sendable, Equatable {
    package let tenant: TenantID
    package let id: String
    package let type: String
    /// The CloudEvents envelope as JSON.
    package let json: String
}

/// Which events a live client sees: its tenant's, of modules it may read in, of the types it asked for.
package struct LiveFilter: Sendable {
    let tenant: TenantID
    let permissions: Set<Permission>
    /// Requested types: exact (`crm.lead.created`), prefixes (`crm.*`), or empty for everything visible.
    let types: [String]

    /// A user sees an event of module `m` (its type's first part) when they hold some `m.<resource>:read`
    /// permission: live updates are refresh hints for the views they can open, which check their own permissions.
    func admits(_ event: LiveEvent) -> Bool {
        guard event.tenant == tenant else { return false }
        guard let module = event.type.split(separator: ".").first.map(String.init) else { return false }
        let readable = permissions.contains { $0.action == "read" && $0.resource.hasPrefix(module + ".") }
        guard readable else { return false }
        if types.isEmpty { return true }
        return types.contains { $0 == event.type || ($0.hasSuffix(".*") && event.type.hasPrefix($0.dropLast())) }
    }
}

/// This process's live clients; events reach it from the fan-out (PostgreSQL `NOTIFY`, or directly on SQLite).
/// A client that reads too slowly loses the oldest of its buffered events rather than holding the hub up.
package final class LiveHub: Sendable {
    struct Subscriber: Sendable {
        let filter: LiveFilter
        let continuation: AsyncStream<LiveEvent>.Continuation
    }

    private let subscribers = Mutex<[UUID: Subscriber]>([:])
    static let bufferPerClient = 1_000

    package init() {}

    /// Events for `filter` until the stream is dropped.
    package func subscribe(_ filter: LiveFilter) -> AsyncStream<LiveEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(Self.bufferPerClient))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = Subscriber(filter: filter, continuation: continuation) }
        return stream
    }

    package func publish(_ event: LiveEvent) {
        let targets = subscribers.withLock { $0.values.filter { $0.filter.admits(event) } }
        for target in targets { target.continuation.yield(event) }
    }
}
