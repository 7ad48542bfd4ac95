import Foundation
import Logging
import Platform
import Synchronization

/// One limit shared by every gateway instance: the sliding window log kept in Redis as a sorted set per key,
/// checked and updated by one atomic script using Redis's own clock (so instances' clocks don't matter).
/// When Redis fails or is slow, each instance falls back to its local limiter (so limits hold per instance, not
/// overall), says so in the log, the `gateway_rate_limiter_degraded` metric and `/ready`'s details, and tries
/// Redis again once a second; it never lets requests through unchecked and never refuses them all.
package final class RedisSlidingWindowLimiter: RateLimiter {
    let redis: RedisClient
    let fallback: SlidingWindowLimiter
    let logger: Logger
    private let state = Mutex(State())
    private let instance = UUID().uuidString.prefix(8)
    private let sequence = Atomic<Int>(0)
    let retryInterval: Duration = .seconds(1)

    struct State {
        var degradedSince: ContinuousClock.Instant?
        var lastAttempt: ContinuousClock.Instant?
        var lastError: String?
    }

    /// Scores are microseconds of Redis's clock; the member is made unique by the caller's token.
    static let script = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local limit = tonumber(ARGV[1])
        local period = tonumber(ARGV[2]) * 1000
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
        local count = redis.call('ZCARD', KEYS[1])
        local allowed = 0
        if count < limit then
          redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          allowed = 1
          count = count + 1
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        local wait = 0
        if oldest[2] then wait = tonumber(oldest[2]) + period - now end
        return {allowed, limit - count, wait}
        """)

    package init(redis: RedisClient, fallback: SlidingWindowLimiter, logger: Logger) {
        self.redis = redis
        self.fallback = fallback
        self.logger = logger
    }

    /// `nil` while Redis answers; otherwise why the limits are local.
    package var degradation: String? {
        state.withLock { $0.degradedSince == nil ? nil : ($0.lastError ?? "redis unreachable") }
    }

    package func check(_ checks: [RateLimitCheck]) async -> [RateLimitDecision] {
        let now = ContinuousClock.now
        let skipRedis = state.withLock { state -> Bool in
            guard state.degradedSince != nil else { return false }
            if let last = state.lastAttempt, now - last < retryInterval { return true }
            state.lastAttempt = now
            return false
        }
        if skipRedis { return fallback.checkNow(checks) }
        do {
            var decisions: [RateLimitDecision] = []
            decisions.reserveCapacity(checks.count)
            for check in checks { decisions.append(try await decide(check)) }
            recovered()
            return decisions
        } catch {
            failed(error, at: now)
            return fallback.checkNow(checks)
        }
    }

    private func decide(_ check: RateLimitCheck) async throws -> RateLimitDecision {
        let token = "\(instance)-\(sequence.wrappingAdd(1, ordering: .relaxed).newValue)"
        let reply = try await redis.evalSHA(
            Self.script, keys: ["inopsio:rl:" + check.key],
            arguments: ["\(check.limit)", "\(Int64(check.period * 1_000))", token])
        guard let values = reply.array, values.count == 3, let allowed = values[0].int,
            let remaining = values[1].int, let wait = values[2].int
        else { throw LimiterReplyError() }
        let seconds = Double(wait) / 1_000_000
        return RateLimitDecision(
            allowed: allowed == 1, remaining: max(0, Int(remaining)), retryAfter: allowed == 1 ? 0 : seconds,
            reset: seconds)
    }

    struct LimiterReplyError: Error {}

    private func failed(_ error: any Error, at now: ContinuousClock.Instant) {
        let description = "redis unreachable: \(error)"
        let first = state.withLock { state -> Bool in
            state.lastAttempt = now
            state.lastError = description
            if state.degradedSince == nil {
                state.degradedSince = now
                return true
            }
            return false
        }
        if first {
            logger.error(
                "rate limits fall back to this instance's local counters: Redis does not answer",
                metadata: ["error.message": "\(String(reflecting: error))"])
        }
    }

    private func recovered() {
        let was = state.withLock { state -> Bool in
            defer {
                state.degradedSince = nil
                state.lastError = nil
            }
            return state.degradedSince != nil
        }
        if was { logger.notice("rate limits are shared through Redis again") }
    }
}
