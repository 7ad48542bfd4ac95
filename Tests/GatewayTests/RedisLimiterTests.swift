import Foundation
import Gateway
import Logging
import Platform
import TestSupport
import Testing

@Suite(
    .enabled(
        if: TestEnvironment.redisURL != nil || TestEnvironment.isCI,
        "needs INOPSIO_TEST_REDIS_URL (scripts/test starts Redis)"))
struct RedisLimiterTests {
    /// A limiter on `url`. Generous timeouts: these tests are about sharing, and a test machine busy with a build
    /// can take longer than the gateway's 250 ms to answer (which would, rightly, fall back to local counters).
    func limiter(url: String, timeout: Duration = .seconds(5)) throws -> (RedisSlidingWindowLimiter, RedisClient) {
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = timeout
        configuration.connectTimeout = timeout
        let client = try RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        return (
            RedisSlidingWindowLimiter(redis: client, fallback: SlidingWindowLimiter(), logger: TestEnvironment.logger),
            client
        )
    }

    @Test func twoInstancesShareOneLimitExactly() async throws {
        let url = try #require(TestEnvironment.redisURL)
        let (first, firstClient) = try limiter(url: url)
        let (second, secondClient) = try limiter(url: url)
        let key = "test:\(UUID().uuidString)"
        let admitted = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<20 {
                let limiter = worker.isMultiple(of: 2) ? first : second
                group.addTask {
                    var count = 0
                    for _ in 0..<50 {
                        // An hour's window: on a machine busy with other suites the 1,000 checks once took 82 s,
                        // and with a minute's window the first admissions had left it, letting 30 more in.
                        let decision = await limiter.check([
                            RateLimitCheck(key: key, limit: 300, period: 3_600, policy: "user")
                        ])
                        if decision[0].allowed { count += 1 }
                    }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 300)
        #expect(first.degradation == nil && second.degradation == nil)
        await firstClient.shutdown()
        await secondClient.shutdown()
    }

    @Test func aRefusalSaysWhenTheOldestRequestLeavesTheWindow() async throws {
        let url = try #require(TestEnvironment.redisURL)
        let (limiter, client) = try limiter(url: url)
        let check = RateLimitCheck(key: "test:\(UUID().uuidString)", limit: 2, period: 30, policy: "ip")
        let decisions = [
            await limiter.check([check])[0], await limiter.check([check])[0], await limiter.check([check])[0],
        ]
        #expect(decisions.map(\.allowed) == [true, true, false])
        #expect(decisions.map(\.remaining) == [1, 0, 0])
        // A slot frees when the first request leaves the 30 s window (how soon depends on how long the calls took).
        #expect(decisions[2].retryAfter > 0 && decisions[2].retryAfter <= 30)
        await client.shutdown()
    }

    @Test func withoutRedisLimitsFallBackToLocalCountersAndSaySo() async throws {
        let (limiter, client) = try limiter(url: "redis://127.0.0.1:1", timeout: .milliseconds(250))
        let check = RateLimitCheck(key: "k", limit: 3, period: 60, policy: "ip")
        var allowed: [Bool] = []
        for _ in 0..<5 { allowed.append(await limiter.check([check])[0].allowed) }
        // Neither open (all allowed) nor shut (all refused): the local limit holds.
        #expect(allowed == [true, true, true, false, false])
        #expect(limiter.degradation?.contains("redis unreachable") == true)
        await client.shutdown()
    }
}
