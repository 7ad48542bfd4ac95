import Foundation
import Kernel
import Logging
import Platform
import Synchronization

/// What the pipeline board and the analytics read through: answers kept per tenant for a short while (60 s) and
/// dropped whenever the tenant's CRM data changes. In-process by default; in Redis when `redis_url` is set, so every
/// instance shares one cache.
///
/// Invalidation: the process that made a change drops the tenant's answers right after its commit, and the
/// `crm.cache` consumer group does so for every process when the change's event arrives (through a PostgreSQL
/// `NOTIFY` each process listens for, or the shared generation counter in Redis). Correctness never depends on the
/// cache: an answer computed while a change committed is not kept, a Redis that fails is read around, and nothing
/// outlives its 60 seconds.
final class CRMCache: Sendable {
    static let notifyChannel = "inopsio_crm_cache"

    struct Statistics: Sendable, Equatable {
        var hits = 0
        var misses = 0
    }

    private struct Entry {
        let value: String
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var generations: [TenantID: UInt64] = [:]
        var entries: [String: Entry] = [:]
        var statistics = Statistics()
    }

    private let state = Mutex(State())
    let redis: RedisClient?
    let ttl: Duration
    let logger: Logger
    /// At most this many answers in process (all are dropped when full: they are cheap to compute again).
    let capacity = 10_000

    init(redis: RedisClient? = nil, ttl: Duration = .seconds(60), logger: Logger = Logger(label: "crm.cache")) {
        self.redis = redis
        self.ttl = ttl
        self.logger = logger
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// The cached answer to `key` for `tenant`, or `compute`'s (kept unless the tenant's data changed meanwhile).
    func value(tenant: TenantID, key: String, compute: () async throws -> String) async throws -> String {
        if let redis { return try await redisValue(redis, tenant: tenant, key: key, compute: compute) }
        let now = ContinuousClock.now
        let (generation, hit) = state.withLock { state -> (UInt64, String?) in
            let generation = state.generations[tenant] ?? 0
            if let entry = state.entries["\(tenant)|\(generation)|\(key)"], entry.expires > now {
                state.statistics.hits += 1
                return (generation, entry.value)
            }
            state.statistics.misses += 1
            return (generation, nil)
        }
        if let hit { return hit }
        let value = try await compute()
        let expires = ContinuousClock.now.advanced(by: ttl)
        state.withLock { state in
            guard (state.generations[tenant] ?? 0) == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries["\(tenant)|\(generation)|\(key)"] = Entry(value: value, expires: expires)
        }
        return value
    }

    /// Drops every answer of `tenant` in this process, and in Redis when configured.
    func invalidate(_ tenant: TenantID) async {
        invalidateLocally(tenant)
        guard let redis else { return }
        do {
            try await redis.send(["INCR", Self.generationKey(tenant)])
        } catch {
            logger.warning(
                "crm cache: redis did not take an invalidation; answers may be stale for up to \(ttl)",
                metadata: ["error.message": "\(error)"])
        }
    }

    func invalidateLocally(_ tenant: TenantID) {
        state.withLock { state in
            state.generations[tenant, default: 0] &+= 1
            let prefix = "\(tenant)|"
            state.entries = state.entries.filter { !$0.key.hasPrefix(prefix) }
        }
    }

    static func generationKey(_ tenant: TenantID) -> String { "inopsio:crm:cache:generation:\(tenant)" }

    private func redisValue(
        _ redis: RedisClient, tenant: TenantID, key: String, compute: () async throws -> String
    ) async throws -> String {
        var stored: String?
        do {
            let generation = try await redis.send(["GET", Self.generationKey(tenant)]).string ?? "0"
            stored = "inopsio:crm:cache:\(tenant):\(generation):\(key)"
            if let value = try await redis.send(["GET", stored!]).string {
                state.withLock { $0.statistics.hits += 1 }
                return value
            }
        } catch {
            logger.warning("crm cache: redis unavailable, computing", metadata: ["error.message": "\(error)"])
            stored = nil
        }
        state.withLock { $0.statistics.misses += 1 }
        let value = try await compute()
        if let stored {
            // Under the generation read before computing: a change since made the key unreachable.
            let seconds = max(1, Int(ttl.components.seconds))
            _ = try? await redis.send(["SET", stored, value, "EX", String(seconds)])
        }
        return value
    }
}
