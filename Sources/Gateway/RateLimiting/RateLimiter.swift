import Foundation

/// One counter to check: `limit` requests per `period` for `key` (already namespaced by rule and scope).
package struct RateLimitCheck: Sendable, Equatable {
    package let key: String
    package let limit: Int
    package let period: Double
    /// The policy's name in the `RateLimit-Policy` and `RateLimit` headers.
    package let policy: String

    package init(key: String, limit: Int, period: Double, policy: String) {
        self.key = key
        self.limit = limit
        self.period = period
        self.policy = policy
    }
}

/// The answer for one counter.
package struct RateLimitDecision: Sendable, Equatable {
    package let allowed: Bool
    package let remaining: Int
    /// Seconds until a request would be admitted again (0 while some are left).
    package let retryAfter: Double
    /// Seconds until the window holds no request of now's (when the full quota is back).
    package let reset: Double

    package init(allowed: Bool, remaining: Int, retryAfter: Double, reset: Double) {
        self.allowed = allowed
        self.remaining = remaining
        self.retryAfter = retryAfter
        self.reset = reset
    }
}

/// Decides whether requests are within their limits. The algorithm is a sliding window log: a request is
/// admitted when fewer than `limit` requests were admitted in the `period` before it, so no window of that length
/// ever holds more than `limit` (fixed windows allow twice that across a boundary, GCRA a burst plus the rate).
package protocol RateLimiter: Sendable {
    /// Checks and, where admitted, counts each request. All checks are applied even when one refuses.
    func check(_ checks: [RateLimitCheck]) async -> [RateLimitDecision]
}
