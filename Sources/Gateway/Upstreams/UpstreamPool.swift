import Synchronization

/// The live state of one upstream: its targets' health, ejections and open requests, its circuit breaker and
/// retry budget. Shared by every request to the upstream; one lock, held for a few field updates.
package final class UpstreamPool: Sendable {
    package let settings: UpstreamSettings
    private let state: Mutex<State>

    struct TargetState {
        var inFlight = 0
        var consecutiveFailures = 0
        var ejectedUntil: ContinuousClock.Instant?
        /// From active checks; targets start healthy so traffic flows before the first check.
        var healthy = true
        var checkStreak = 0
    }

    struct State {
        var targets: [TargetState]
        var next = 0
        var breaker: CircuitBreakerStateMachine
        var budget: RetryBudget
    }

    /// A target chosen for one try; give it back with `finish`.
    package struct Lease: Sendable {
        package let index: Int
        package let target: UpstreamTarget
        package let isProbe: Bool
    }

    package enum Outcome: Sendable {
        case success
        /// A connection failure, timeout, or a 502/503/504 answer.
        case failure
        /// Never reached the upstream or its result does not say anything about it (the client went away).
        case abandoned
    }

    package init(settings: UpstreamSettings) {
        self.settings = settings
        self.state = Mutex(
            State(
                targets: Array(repeating: TargetState(), count: settings.targets.count),
                breaker: CircuitBreakerStateMachine(
                    failureThreshold: settings.breakerFailures, openDuration: settings.breakerOpen),
                budget: RetryBudget(percent: settings.retryBudgetPercent)))
    }

    /// Picks a target for a try: healthy and not ejected ones first, by the upstream's balancing; when none is
    /// left every target is a candidate again (better an answer from a doubtful target than none). `nil` when the
    /// circuit breaker is open.
    package func acquire(now: ContinuousClock.Instant, avoiding tried: Set<Int> = [], isRetry: Bool = false) -> Lease? {
        state.withLock { state in
            if !isRetry { state.budget.recordRequest() }
            let decision = state.breaker.decide(now: now)
            if decision == .reject { return nil }
            var candidates: [Int] = []
            for (index, target) in state.targets.enumerated() where !tried.contains(index) {
                if target.healthy && (target.ejectedUntil.map { now >= $0 } ?? true) { candidates.append(index) }
            }
            if candidates.isEmpty {
                candidates = state.targets.indices.filter { !tried.contains($0) }
                if candidates.isEmpty { candidates = Array(state.targets.indices) }
            }
            let chosen: Int
            switch settings.balance {
            case .roundRobin:
                chosen = candidates[state.next % candidates.count]
                state.next &+= 1
            case .leastConnections:
                // Ties go round-robin, so equal targets share the load.
                let start = state.next % candidates.count
                state.next &+= 1
                var best = candidates[start]
                for offset in 1..<max(candidates.count, 1) {
                    let index = candidates[(start + offset) % candidates.count]
                    if state.targets[index].inFlight < state.targets[best].inFlight { best = index }
                }
                chosen = best
            }
            state.targets[chosen].inFlight += 1
            return Lease(index: chosen, target: settings.targets[chosen], isProbe: decision == .allowProbe)
        }
    }

    /// Whether a retry may be spent now (the budget is shared by all requests to the upstream).
    package func mayRetry() -> Bool {
        state.withLock { $0.budget.tryRetry() }
    }

    /// Returns a lease with what happened; failures count towards ejecting the target and opening the circuit.
    package func finish(_ lease: Lease, outcome: Outcome, now: ContinuousClock.Instant) {
        record(lease, outcome: outcome, now: now)
        release(lease)
    }

    /// Records what a try's response head said about the upstream, while its body may still stream.
    package func record(_ lease: Lease, outcome: Outcome, now: ContinuousClock.Instant) {
        state.withLock { state in
            switch outcome {
            case .success:
                state.targets[lease.index].consecutiveFailures = 0
                state.breaker.recordSuccess(wasProbe: lease.isProbe)
            case .failure:
                state.targets[lease.index].consecutiveFailures += 1
                if state.targets[lease.index].consecutiveFailures >= settings.ejectAfterFailures {
                    state.targets[lease.index].ejectedUntil = now + settings.ejection
                    state.targets[lease.index].consecutiveFailures = 0
                }
                state.breaker.recordFailure(now: now, wasProbe: lease.isProbe)
            case .abandoned:
                if lease.isProbe { state.breaker.recordAbandoned() }
            }
        }
    }

    /// Ends a try's claim on its target (for least-connections): when its response body has been passed on.
    package func release(_ lease: Lease) {
        state.withLock { state in state.targets[lease.index].inFlight -= 1 }
    }

    /// Records an active health check's result; thresholds of consecutive results flip a target's health.
    package func recordCheck(target index: Int, passed: Bool) {
        guard let check = settings.healthCheck else { return }
        state.withLock { state in
            var target = state.targets[index]
            if passed == target.healthy {
                target.checkStreak = 0
            } else {
                target.checkStreak += 1
                let threshold = passed ? check.healthyThreshold : check.unhealthyThreshold
                if target.checkStreak >= threshold {
                    target.healthy = passed
                    target.checkStreak = 0
                    // A target that passes its checks again is given traffic at once.
                    if passed { target.ejectedUntil = nil }
                }
            }
            state.targets[index] = target
        }
    }

    /// A snapshot for the admin API and metrics.
    package func status(now: ContinuousClock.Instant) -> UpstreamStatus {
        state.withLock { state in
            UpstreamStatus(
                name: settings.name,
                breaker: ["closed", "open", "half_open"][state.breaker.metricValue],
                targets: zip(settings.targets, state.targets).map { target, live in
                    UpstreamStatus.Target(
                        address: target.description, healthy: live.healthy,
                        ejected: live.ejectedUntil.map { now < $0 } ?? false, inFlight: live.inFlight)
                })
        }
    }
}

/// An upstream's state as the admin API shows it.
package struct UpstreamStatus: Codable, Sendable, Equatable {
    package struct Target: Codable, Sendable, Equatable {
        package let address: String
        package let healthy: Bool
        package let ejected: Bool
        package let inFlight: Int

        enum CodingKeys: String, CodingKey {
            case address, healthy, ejected
            case inFlight = "in_flight"
        }
    }

    package let name: String
    package let breaker: String
    package let targets: [Target]
}
