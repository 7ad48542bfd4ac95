import Foundation
import Gateway
import Testing

@Suite struct UpstreamPoolTests {
    func pool(_ json: String) throws -> UpstreamPool {
        let configuration = try GatewayConfiguration.decode(Data(#"{"upstreams": {"u": \#(json)}}"#.utf8))
        let table = try RouteTable.compile(configuration, modules: [], localModules: [])
        return UpstreamPool(settings: try #require(table.upstreams["u"]))
    }

    @Test func roundRobinSpreadsRequestsEvenly() throws {
        let pool = try pool(#"{"targets": ["http://a:1", "http://b:1", "http://c:1"]}"#)
        var counts: [String: Int] = [:]
        for _ in 0..<30 {
            let lease = try #require(pool.acquire(now: .now))
            counts[lease.target.host, default: 0] += 1
            pool.finish(lease, outcome: .success, now: .now)
        }
        #expect(counts == ["a": 10, "b": 10, "c": 10])
    }

    @Test func leastConnectionsPrefersTheTargetWithFewestOpenRequests() throws {
        let pool = try pool(#"{"targets": ["http://a:1", "http://b:1"], "balance": "least_connections"}"#)
        let first = try #require(pool.acquire(now: .now))
        // While the first stays open, every new request goes to the other target.
        for _ in 0..<5 {
            let lease = try #require(pool.acquire(now: .now))
            #expect(lease.target != first.target)
            pool.finish(lease, outcome: .success, now: .now)
        }
        pool.finish(first, outcome: .success, now: .now)
    }

    @Test func consecutiveFailuresEjectATargetForTheEjectionTime() throws {
        let pool = try pool(
            #"{"targets": ["http://a:1", "http://b:1"], "eject_after_failures": 2, "ejection_ms": 1000, "breaker_failures": 100}"#
        )
        let now = ContinuousClock.now
        for _ in 0..<4 {
            let lease = try #require(pool.acquire(now: now))
            pool.finish(lease, outcome: lease.target.host == "a" ? .failure : .success, now: now)
        }
        #expect(pool.status(now: now).targets.map(\.ejected) == [true, false])
        for _ in 0..<4 { #expect(pool.acquire(now: now + .milliseconds(500))?.target.host == "b") }
        #expect(pool.status(now: now + .milliseconds(1_001)).targets.map(\.ejected) == [false, false])
    }

    @Test func whenEveryTargetIsDownTheyAreAllTriedRatherThanNone() throws {
        let pool = try pool(
            #"{"targets": ["http://a:1"], "eject_after_failures": 1, "breaker_failures": 100}"#)
        let now = ContinuousClock.now
        let lease = try #require(pool.acquire(now: now))
        pool.finish(lease, outcome: .failure, now: now)
        #expect(pool.acquire(now: now)?.target.host == "a")
    }

    @Test func activeChecksFlipHealthAfterTheirThresholds() throws {
        let pool = try pool(
            #"{"targets": ["http://a:1", "http://b:1"], "health_check": {"healthy_threshold": 2, "unhealthy_threshold": 3}}"#
        )
        pool.recordCheck(target: 0, passed: false)
        pool.recordCheck(target: 0, passed: false)
        #expect(pool.status(now: .now).targets[0].healthy)
        pool.recordCheck(target: 0, passed: false)
        #expect(!pool.status(now: .now).targets[0].healthy)
        for _ in 0..<3 { #expect(pool.acquire(now: .now)?.target.host == "b") }
        pool.recordCheck(target: 0, passed: true)
        pool.recordCheck(target: 0, passed: true)
        #expect(pool.status(now: .now).targets[0].healthy)
    }

    @Test func theCircuitOpensAfterConsecutiveFailuresOfTheUpstream() throws {
        let pool = try pool(#"{"targets": ["http://a:1"], "breaker_failures": 3, "breaker_open_ms": 1000}"#)
        let now = ContinuousClock.now
        for _ in 0..<3 {
            let lease = try #require(pool.acquire(now: now))
            pool.finish(lease, outcome: .failure, now: now)
        }
        #expect(pool.acquire(now: now) == nil)
        #expect(pool.status(now: now).breaker == "open")
        #expect(pool.acquire(now: now + .milliseconds(1_001))?.isProbe == true)
    }

    @Test func retriesStayWithinTheBudget() {
        var budget = RetryBudget(percent: 20, minimum: 2)
        var granted: [Bool] = []
        for _ in 0..<3 { granted.append(budget.tryRetry()) }
        #expect(granted == [true, true, false])
        // Ten requests earn two retries at 20 %.
        for _ in 0..<10 { budget.recordRequest() }
        granted = []
        for _ in 0..<3 { granted.append(budget.tryRetry()) }
        #expect(granted == [true, true, false])
    }
}
