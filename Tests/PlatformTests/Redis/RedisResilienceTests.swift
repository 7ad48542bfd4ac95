import Synchronization
import TestSupport
import Testing

@testable import Platform

/// Server crashes and restarts under a live client: typed failures during the outage, recovery without a new client.
@Suite(.enabled(if: RedisTestEnvironment.privateServersAvailable, "needs /usr/bin/redis-server"))
struct RedisResilienceTests {
    /// Where the test stands when a command starts and when it ends.
    enum Phase: Int {
        case before = 0
        case outage = 1
        case recovering = 2
        case recovered = 3
    }

    struct Outcome: Sendable {
        var started: Phase
        var ended: Phase
        var error: (any Error)?
    }

    /// What the traffic tasks share with the controlling test.
    final class Traffic: Sendable {
        let phase = Atomic<Int>(Phase.before.rawValue)
        let stop = Atomic<Bool>(false)
        let outcomes = Mutex<[Outcome]>([])
        let misaligned = Atomic<Int>(0)

        var current: Phase { Phase(rawValue: phase.load(ordering: .relaxed)) ?? .before }

        /// How many commands started in `phase` ended (successfully, or not).
        func count(started phase: Phase, succeeded: Bool) -> Int {
            outcomes.withLock { $0.filter { $0.started == phase && ($0.error == nil) == succeeded }.count }
        }

        func record(_ started: Phase, _ error: (any Error)? = nil) {
            let outcome = Outcome(started: started, ended: current, error: error)
            outcomes.withLock { $0.append(outcome) }
        }
    }

    static func fastRecovery(_ configuration: inout RedisConfiguration) {
        configuration.poolSize = 4
        configuration.commandTimeout = .seconds(3)
        configuration.connectTimeout = .seconds(1)
        configuration.reconnectBackoffInitial = .milliseconds(20)
        configuration.reconnectBackoffMaximum = .milliseconds(300)
    }

    @Test func serverRestartDuringTrafficFailsTypedThenRecovers() async throws {
        try await withRedisServer { server in
            try await withRedisClient(url: server.url, configure: Self.fastRecovery) { redis in
                try await redis.ping()
                let traffic = Traffic()

                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<16 {
                        group.addTask {
                            let key = "worker:\(worker)"
                            for round in 0..<100_000 where !traffic.stop.load(ordering: .relaxed) {
                                let started = traffic.current
                                let value = "\(worker)-\(round)"
                                do {
                                    try await redis.send(["SET", key, value])
                                    if try await redis.send(["GET", key]).string != value {
                                        traffic.misaligned.add(1, ordering: .relaxed)
                                    }
                                    traffic.record(started)
                                } catch {
                                    traffic.record(started, error)
                                    // The pool fails fast while it backs off; the test must not spin either.
                                    try await Task.sleep(for: .milliseconds(5))
                                }
                            }
                        }
                    }
                    // Traffic first flows normally (however busy the machine is) before the server dies.
                    for _ in 0..<400 where traffic.outcomes.withLock({ $0.filter { $0.error == nil }.count }) < 50 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    traffic.phase.store(Phase.outage.rawValue, ordering: .relaxed)
                    await server.kill()
                    try await Task.sleep(for: .milliseconds(500))
                    try await server.launch()
                    traffic.phase.store(Phase.recovering.rawValue, ordering: .relaxed)
                    // Longer than the maximum backoff plus a connect, so every slot has had its next attempt; on a
                    // busy machine, also until commands succeed again.
                    try await Task.sleep(for: .seconds(1))
                    for _ in 0..<400 where traffic.count(started: .recovering, succeeded: true) < 16 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    traffic.phase.store(Phase.recovered.rawValue, ordering: .relaxed)
                    // Enough traffic after recovery to judge it, however slow the machine is (20 s at most).
                    try await Task.sleep(for: .milliseconds(700))
                    for _ in 0..<400 where traffic.count(started: .recovered, succeeded: true) < 50 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    traffic.stop.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                }

                let all = traffic.outcomes.withLock { $0 }
                #expect(traffic.misaligned.load(ordering: .relaxed) == 0, "a reply was matched to the wrong command")
                let failures = all.filter { $0.error != nil }
                #expect(!failures.isEmpty, "the outage went unnoticed")
                for failure in failures {
                    let error = failure.error as? RedisError
                    var isConnectFailure = false
                    if case .connectionRefused = error { isConnectFailure = true }
                    let transient: [RedisError] = [.connectionClosed, .commandTimeout, .connectTimeout]
                    let isTransient = error.map { transient.contains($0) } ?? false
                    #expect(isTransient || isConnectFailure, "unexpected error \(String(describing: failure.error))")
                    #expect(failure.started != .before || failure.ended != .before, "failed before the outage")
                    #expect(
                        failure.started != .recovered, "failed after recovery: \(String(describing: failure.error))")
                }
                #expect(all.contains { $0.started == .before && $0.error == nil })
                let afterwards = all.filter { $0.started == .recovered }
                #expect(afterwards.count > 16, "too little traffic after the restart to judge")
                #expect(afterwards.allSatisfy { $0.error == nil })
                try await redis.ping()
            }
        }
    }

    @Test func subscriptionResubscribesAfterServerRestart() async throws {
        try await withRedisServer { server in
            try await withRedisClient(url: server.url, configure: Self.fastRecovery) { redis in
                let subscription = try await redis.subscribe(channels: ["events"])
                let received = Received()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in subscription {
                            received.messages.withLock { $0.append(message.string) }
                        }
                    }
                    #expect(try await redis.publish("before", to: "events") == 1)
                    try await Self.waitFor { received.messages.withLock { $0.contains("before") } }

                    await server.kill()
                    try await server.launch()
                    // Messages published before the resubscription are lost (pub/sub semantics): keep publishing.
                    try await Self.waitFor {
                        _ = try? await redis.publish("after", to: "events")
                        return received.messages.withLock { $0.contains("after") }
                    }
                    #expect(subscription.subscriptionCount >= 2)
                    await subscription.close()
                    try await group.waitForAll()
                }
            }
        }
    }

    /// Messages the subscriber task saw.
    final class Received: Sendable {
        let messages = Mutex<[String]>([])
    }

    /// Polls `condition` every 50 ms for at most 15 s (generous for a loaded 2-core CI machine).
    static func waitFor(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<300 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not met within 15 s")
    }
}
