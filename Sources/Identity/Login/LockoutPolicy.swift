import Foundation

/// Growing waits after failed sign-ins, like Keycloak's brute-force detection: the first `freeFailures` failures
/// cost nothing, then each further failure doubles the wait (1 s, 2 s, 4 s, ...) up to `maxWait`; a quiet period
/// of `resetAfter` forgets the count. Used per account and, with a higher threshold, per client IP.
struct LockoutPolicy: Sendable, Equatable {
    var freeFailures: Int
    var maxWait: TimeInterval = 15 * 60
    var resetAfter: TimeInterval = 12 * 3600

    static let account = LockoutPolicy(freeFailures: 5)
    /// Higher than per account: a whole office may sign in through one NAT address.
    static let clientIP = LockoutPolicy(freeFailures: 100)

    /// The failure count after one more failure at `now`.
    func failures(after previous: Int, lastFailureAt: Date?, now: Date) -> Int {
        guard let lastFailureAt, now.timeIntervalSince(lastFailureAt) < resetAfter else { return 1 }
        return previous + 1
    }

    /// How long sign-in is refused after `failures` failures (nil: not at all).
    func wait(afterFailures failures: Int) -> TimeInterval? {
        guard failures >= freeFailures else { return nil }
        let exponent = min(failures - freeFailures, 20)
        return min(TimeInterval(1 << exponent), maxWait)
    }
}
