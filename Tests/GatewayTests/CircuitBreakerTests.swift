import Gateway
import Testing

@Suite struct CircuitBreakerTests {
    let start = ContinuousClock.now

    @Test func closedBreakerAllowsAndCountsConsecutiveFailures() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 3, openDuration: .seconds(5))
        #expect(breaker.decide(now: start) == .allow)
        breaker.recordFailure(now: start)
        breaker.recordFailure(now: start)
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        breaker.recordSuccess()
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test func thresholdOfFailuresOpensAndRejectsUntilTheOpenPeriodEnds() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 2, openDuration: .seconds(5))
        breaker.recordFailure(now: start)
        breaker.recordFailure(now: start)
        #expect(breaker.state == .open(until: start + .seconds(5)))
        #expect(breaker.decide(now: start + .seconds(4)) == .reject)
    }

    @Test func afterTheOpenPeriodExactlyOneProbeGoesThrough() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 1, openDuration: .seconds(5))
        breaker.recordFailure(now: start)
        #expect(breaker.decide(now: start + .seconds(5)) == .allowProbe)
        #expect(breaker.decide(now: start + .seconds(5)) == .reject)
    }

    @Test func aSuccessfulProbeClosesTheBreaker() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 1, openDuration: .seconds(5))
        breaker.recordFailure(now: start)
        _ = breaker.decide(now: start + .seconds(6))
        breaker.recordSuccess(wasProbe: true)
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.decide(now: start + .seconds(6)) == .allow)
    }

    @Test func aFailedProbeOpensTheBreakerAgain() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 1, openDuration: .seconds(5))
        breaker.recordFailure(now: start)
        _ = breaker.decide(now: start + .seconds(6))
        breaker.recordFailure(now: start + .seconds(6), wasProbe: true)
        #expect(breaker.state == .open(until: start + .seconds(11)))
    }

    @Test func answersToRequestsFromBeforeTheCircuitOpenedDoNotCloseIt() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 1, openDuration: .seconds(5))
        breaker.recordFailure(now: start)
        breaker.recordSuccess()
        #expect(breaker.state == .open(until: start + .seconds(5)))
        _ = breaker.decide(now: start + .seconds(6))
        breaker.recordSuccess()
        #expect(breaker.state == .halfOpen(probeInFlight: true))
    }

    @Test func anAbandonedProbeGivesItsSlotBack() {
        var breaker = CircuitBreakerStateMachine(failureThreshold: 1, openDuration: .seconds(5))
        breaker.recordFailure(now: start)
        _ = breaker.decide(now: start + .seconds(6))
        breaker.recordAbandoned()
        #expect(breaker.decide(now: start + .seconds(6)) == .allowProbe)
    }
}
