import Foundation
import Synchronization

/// The in-process sliding window log. Each key keeps the times of its last `limit` admissions in a ring; a
/// request is admitted when the ring is not full or its oldest entry has left the window, so a check is O(1).
/// Memory is 8 bytes per allowed request per active key (8 KB for 1,000/hour); keys idle for a whole period are
/// dropped. Keys are spread over shards so concurrent requests rarely wait on the same lock.
package final class SlidingWindowLimiter: RateLimiter {
    private let shards: [ShardBox]
    private let now: @Sendable () -> Double

    struct Window {
        var times: [Double]
        var head = 0
        var period: Double
        var newest: Double = 0
    }

    struct Shard {
        var windows: [String: Window] = [:]
        var lastSweep: Double = 0
    }

    /// A lock in a box: `Mutex` cannot be stored in an array.
    final class ShardBox: Sendable {
        let lock = Mutex(Shard())
    }

    package init(shards: Int = 16, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.shards = (0..<max(1, shards)).map { _ in ShardBox() }
        self.now = now
    }

    package func check(_ checks: [RateLimitCheck]) async -> [RateLimitDecision] {
        checkNow(checks)
    }

    /// The synchronous check (the Redis limiter falls back to it without a suspension point).
    package func checkNow(_ checks: [RateLimitCheck]) -> [RateLimitDecision] {
        let time = now()
        return checks.map { check in
            let shard = shards[Int(UInt(bitPattern: check.key.hashValue) % UInt(shards.count))]
            return shard.lock.withLock { shard in
                if time - shard.lastSweep > 10 && shard.windows.count > 1_000 { Self.sweep(&shard, now: time) }
                // Updated in place: one hash lookup per check.
                return Self.admit(
                    &shard.windows[check.key, default: Window(times: [], period: check.period)], limit: check.limit,
                    period: check.period, now: time)
            }
        }
    }

    static func admit(_ window: inout Window, limit: Int, period: Double, now: Double) -> RateLimitDecision {
        if window.period != period || window.times.count > limit {
            // The rule changed (a reload): start this key afresh rather than misread its ring.
            window = Window(times: [], period: period)
        }
        let start = now - window.period
        if window.times.count < limit {
            // Until the ring is full, entries are appended in time order and `head` stays 0.
            window.times.append(now)
        } else {
            let oldest = window.times[window.head]
            guard oldest <= start else {
                return RateLimitDecision(
                    allowed: false, remaining: 0, retryAfter: oldest - start, reset: oldest - start)
            }
            window.times[window.head] = now
            window.head = (window.head + 1) % limit
        }
        window.newest = now
        let inside = countInside(window, start: start)
        let oldestInside = window.times[(window.head + window.times.count - inside) % window.times.count]
        return RateLimitDecision(
            allowed: true, remaining: limit - inside, retryAfter: 0, reset: oldestInside + window.period - now)
    }

    /// How many entries of the ring are inside the window: entries are in time order from `head`, so it is the
    /// count from the first one inside.
    static func countInside(_ window: Window, start: Double) -> Int {
        let count = window.times.count
        var low = 0
        var high = count
        // Binary search over the ring in time order for the first entry inside the window.
        while low < high {
            let middle = (low + high) / 2
            if window.times[(window.head + middle) % count] > start { high = middle } else { low = middle + 1 }
        }
        return count - low
    }

    static func sweep(_ shard: inout Shard, now: Double) {
        shard.windows = shard.windows.filter { _, window in window.newest + window.period > now }
        shard.lastSweep = now
    }
}
