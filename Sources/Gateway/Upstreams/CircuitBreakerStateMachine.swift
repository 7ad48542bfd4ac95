/// The circuit breaker of one upstream. Closed, it counts consecutive failures; at the threshold it opens and
/// refuses every request for the open period; then it lets exactly one probe through (half-open): success closes
/// it, failure opens it again. Time is passed in, so every transition is testable.
package struct CircuitBreakerStateMachine: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(probeInFlight: Bool)
    }

    package enum Decision: Sendable, Equatable {
        case allow
        /// Allowed as the half-open probe: its outcome decides the state.
        case allowProbe
        case reject
    }

    package private(set) var state: State = .closed(consecutiveFailures: 0)
    let failureThreshold: Int
    let openDuration: Duration

    package init(failureThreshold: Int, openDuration: Duration) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
    }

    /// Whether a request may go to the upstream now.
    package mutating func decide(now: ContinuousClock.Instant) -> Decision {
        switch state {
        case .closed:
            return .allow
        case .open(let until):
            guard now >= until else { return .reject }
            state = .halfOpen(probeInFlight: true)
            return .allowProbe
        case .halfOpen(let probeInFlight):
            if probeInFlight { return .reject }
            state = .halfOpen(probeInFlight: true)
            return .allowProbe
        }
    }

    /// A request answered. While the circuit is open or half-open only the probe's answer counts: a request
    /// that started before the circuit opened says nothing about the upstream now.
    package mutating func recordSuccess(wasProbe: Bool = false) {
        switch state {
        case .closed: state = .closed(consecutiveFailures: 0)
        case .halfOpen where wasProbe: state = .closed(consecutiveFailures: 0)
        case .halfOpen, .open: break
        }
    }

    package mutating func recordFailure(now: ContinuousClock.Instant, wasProbe: Bool = false) {
        switch state {
        case .closed(let failures):
            state =
                failures + 1 >= failureThreshold
                ? .open(until: now + openDuration) : .closed(consecutiveFailures: failures + 1)
        case .halfOpen where wasProbe:
            state = .open(until: now + openDuration)
        case .halfOpen, .open:
            break
        }
    }

    /// A request that was allowed but never reached the upstream (cancelled): a probe slot is given back.
    package mutating func recordAbandoned() {
        if case .halfOpen = state { state = .halfOpen(probeInFlight: false) }
    }

    /// 0 closed, 1 open, 2 half-open (the metric's value).
    package var metricValue: Int {
        switch state {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        }
    }
}
