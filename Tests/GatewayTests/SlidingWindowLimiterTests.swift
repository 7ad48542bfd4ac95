import Foundation
import Gateway
import Synchronization
import Testing

/// A clock the tests move by hand.
final class TestTime: Sendable {
    private let value = Mutex<Double>(1_000_000)
    var now: Double { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
}

@Suite struct SlidingWindowLimiterTests {
    let time = TestTime()
    var limiter: SlidingWindowLimiter { SlidingWindowLimiter(now: { [time] in time.now }) }

    func check(_ limiter: SlidingWindowLimiter, key: String = "k", limit: Int = 5, period: Double = 60)
        -> RateLimitDecision
    {
        limiter.checkNow([RateLimitCheck(key: key, limit: limit, period: period, policy: "user")])[0]
    }

    @Test func admitsExactlyTheLimitWithinOnePeriod() {
        let limiter = limiter
        let admitted = (0..<20).filter { _ in
            time.advance(1)
            return check(limiter).allowed
        }
        #expect(admitted.count == 5)
    }

    @Test func remainingCountsDownAndTheRefusalSaysWhenToRetry() {
        let limiter = limiter
        #expect(check(limiter).remaining == 4)
        time.advance(10)
        for _ in 0..<3 { _ = check(limiter) }
        let last = check(limiter)
        #expect(last.allowed && last.remaining == 0)
        let refused = check(limiter)
        #expect(!refused.allowed)
        // The first request was 10 s ago in a 60 s window: a slot frees in 50 s.
        #expect(refused.retryAfter == 50)
    }

    @Test func noWindowOfThePeriodEverHoldsMoreThanTheLimit() {
        // Requests every 0.7 s for ten periods: in every 60 s window at most 5 are admitted (a fixed window would
        // admit 10 across a boundary).
        let limiter = limiter
        var admittedAt: [Double] = []
        for _ in 0..<860 {
            time.advance(0.7)
            if check(limiter).allowed { admittedAt.append(time.now) }
        }
        for (index, start) in admittedAt.enumerated() {
            let inWindow = admittedAt[index...].prefix { $0 < start + 60 }.count
            #expect(inWindow <= 5)
        }
        // And the limit is used: 5 per 60 s over 602 s is about 50.
        #expect(admittedAt.count >= 49)
    }

    @Test func keysAreCountedSeparately() {
        let limiter = limiter
        for _ in 0..<5 { _ = check(limiter, key: "a") }
        #expect(!check(limiter, key: "a").allowed)
        #expect(check(limiter, key: "b").allowed)
    }

    @Test func concurrentRequestsAdmitExactlyTheLimit() async {
        let limiter = SlidingWindowLimiter()
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<2_000 {
                group.addTask {
                    await limiter.check([RateLimitCheck(key: "shared", limit: 700, period: 3_600, policy: "api_key")])[
                        0
                    ].allowed
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 700)
    }

    @Test func aChangedRuleStartsTheKeyAfresh() {
        let limiter = limiter
        for _ in 0..<5 { _ = check(limiter, limit: 5) }
        #expect(!check(limiter, limit: 5).allowed)
        #expect(check(limiter, limit: 3).allowed)
    }
}
