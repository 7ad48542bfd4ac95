import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import TestSupport
import Testing

/// The Redis Streams transport against a real Redis (and the database on SQLite and PostgreSQL): each group applies
/// each event once, in order per aggregate, through repeated relays, a worker that died holding entries, failures
/// and poison events; the streams are trimmed to what every group acknowledged.
@Suite(.enabled(if: TestEnvironment.redisURL != nil || TestEnvironment.isCI, "needs INOPSIO_TEST_REDIS_URL"))
struct RedisEventTransportTests {
    typealias Base = EventBackboneTests

    /// A backbone on Redis with streams of its own (a fresh key prefix per test).
    static func withRedisBackbone(
        _ backend: TestBackend, consumers: [any EventConsumer], settings: EventBackboneSettings = Base.settings(),
        _ body: @Sendable (EventBackbone, RedisEventTransport, any Database, TenantID) async throws -> Void
    ) async throws {
        let url = try #require(TestEnvironment.redisURL, "INOPSIO_TEST_REDIS_URL is not set")
        let client = try RedisClient(configuration: try RedisConfiguration(url: url), logger: TestEnvironment.logger)
        var transport = RedisEventTransport(client: client)
        transport.prefix = "test:\(UUID().uuidString.prefix(8))"
        transport.partitions = 4
        // A short lease: a dead holder's entries become claimable after half of it.
        transport.lease = .seconds(1)
        let redis = transport
        do {
            try await Base.withBackbone(backend) { database, tenant in
                let backbone = EventBackbone(
                    database: database, consumers: consumers, settings: settings, logger: TestEnvironment.logger,
                    redis: redis)
                try await backbone.registerSubscriptions()
                try await body(backbone, redis, database, tenant)
            }
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Relays and consumes through Redis and the database until nothing is left.
    static func drain(_ backbone: EventBackbone, groups: [String], worker: String = "w") async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            var work = try await backbone.relayBatch(lookFirst: false)
            for group in groups {
                work += try await backbone.consumeRedis(group: group, worker: "\(group)-\(worker)")
                work += try await backbone.consumeBatch(group: group, worker: "\(group)-\(worker)")
            }
            if work == 0 {
                let open = try await Base.count(backbone.database, "event_deliveries WHERE status <> 'dead'")
                var pending = 0
                if let redis = backbone.redis {
                    for group in groups {
                        for partition in 0..<redis.partitions {
                            let summary = try await redis.client.send(["XPENDING", redis.stream(partition), group])
                            pending += try #require(summary.array?.first?.int)
                        }
                    }
                }
                if open == 0 && pending == 0 { return }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        Issue.record("events did not drain")
    }

    @Test(arguments: TestBackend.available)
    func eachEventOnceDespiteRepeatedEntriesAndAWorkerThatDiedHoldingSome(_ backend: TestBackend) async throws {
        let consumers: [any EventConsumer] = [
            Base.RecordingConsumer(group: "alpha"), Base.RecordingConsumer(group: "beta"),
        ]
        try await Self.withRedisBackbone(backend, consumers: consumers) { backbone, redis, database, tenant in
            let ids = try await Base.append(database, tenant: tenant, aggregates: (0..<12).map { "a\($0)" }, count: 10)
            while try await backbone.relayBatch(lookFirst: false) > 0 {}
            // A worker of alpha reads entries and dies before applying or acknowledging them.
            for partition in 0..<redis.partitions {
                _ = try await redis.client.send([
                    "XREADGROUP", "GROUP", "alpha", "dead-worker", "COUNT", "7", "STREAMS", redis.stream(partition),
                    ">",
                ])
            }
            // A relay that died after writing to Redis writes some entries a second time.
            let payloads = try await database.systemRead { tx in
                try await tx.sql.raw(
                    "SELECT id, aggregateid, type, tenant_id, payload FROM event_outbox ORDER BY seq LIMIT 15"
                )
                .all().map {
                    (
                        try $0.decode(column: "id", as: String.self),
                        try $0.decode(column: "aggregateid", as: String.self),
                        try $0.decode(column: "payload", as: String.self)
                    )
                }
            }
            for (id, aggregate, payload) in payloads {
                _ = try await redis.client.send([
                    "XADD", redis.stream(redis.partition(of: "thing:" + aggregate)), "*", "id", id, "type",
                    "test.thing.changed", "tenant", tenant.description, "at", "thing", "ai", aggregate, "payload",
                    payload,
                ])
            }
            try await Self.drain(backbone, groups: ["alpha", "beta"])
            let effects = try await Base.effects(database, tenant: tenant)
            for group in ["alpha", "beta"] {
                let applied = effects.filter { $0.group == group }
                #expect(applied.map(\.eventID).sorted() == ids.sorted())
                // In order per aggregate.
                for aggregate in Set(applied.map(\.aggregate)) {
                    #expect(applied.filter { $0.aggregate == aggregate }.map(\.position) == Array(0..<10))
                }
            }
            // Everything acknowledged, so cleanup trims the streams to (almost) nothing.
            try await backbone.cleanUp()
            var left = 0
            for partition in 0..<redis.partitions {
                left += try #require(try await redis.client.send(["XLEN", redis.stream(partition)]).int)
            }
            #expect(left <= redis.partitions)
        }
    }

    @Test(arguments: TestBackend.available)
    func orderPerAggregateHoldsWithFourConcurrentWorkers(_ backend: TestBackend) async throws {
        let consumers: [any EventConsumer] = [Base.RecordingConsumer(group: "alpha", delay: .milliseconds(1))]
        try await Self.withRedisBackbone(backend, consumers: consumers) { backbone, _, database, tenant in
            _ = try await backbone.consumeRedis(group: "alpha", worker: "setup")
            await backbone.releasePartitions(group: "alpha", worker: "setup")
            let ids = try await Base.append(database, tenant: tenant, aggregates: (0..<20).map { "a\($0)" }, count: 15)
            while try await backbone.relayBatch(lookFirst: false) > 0 {}
            try await withThrowingTaskGroup(of: Void.self) { workers in
                for index in 0..<4 {
                    workers.addTask {
                        var idle = 0
                        while idle < 30 {
                            let handled = try await backbone.consumeRedis(group: "alpha", worker: "w\(index)")
                            idle = handled == 0 ? idle + 1 : 0
                            if handled == 0 { try await Task.sleep(for: .milliseconds(10)) }
                        }
                    }
                }
                try await workers.waitForAll()
            }
            let effects = try await Base.effects(database, tenant: tenant)
            #expect(effects.map(\.eventID).sorted() == ids.sorted())
            for aggregate in Set(effects.map(\.aggregate)) {
                #expect(effects.filter { $0.aggregate == aggregate }.map(\.position) == Array(0..<15))
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func aPoisonEventIsRetriedThenDeadWhileItsAggregateWaitsAndCanBeReplayed(_ backend: TestBackend) async throws {
        let plan = Base.FailurePlan()
        let consumers: [any EventConsumer] = [Base.RecordingConsumer(group: "alpha", plan: plan)]
        try await Self.withRedisBackbone(backend, consumers: consumers, settings: Base.settings(maxAttempts: 3)) {
            backbone, _, database, tenant in
            _ = try await backbone.consumeRedis(group: "alpha", worker: "alpha-w")
            let first = try await Base.append(database, tenant: tenant, aggregates: ["a", "b"], count: 1)
            plan.fail(first[0], times: Int.max)
            let later = try await Base.append(database, tenant: tenant, aggregates: ["a", "b"], count: 1)
            while try await backbone.relayBatch(lookFirst: false) > 0 {}
            // One pass: b's events are applied; a's first fails and goes to the database, its second waits there.
            _ = try await backbone.consumeRedis(group: "alpha", worker: "alpha-w")
            var effects = try await Base.effects(database, tenant: tenant)
            #expect(Set(effects.map(\.eventID)) == [first[1], later[1]])
            #expect(try await Base.count(database, "event_deliveries WHERE consumer_group = 'alpha'") == 2)
            try await Self.drain(backbone, groups: ["alpha"])
            // Retried up to the limit, then dead; a's second event then went ahead.
            let dead = try await backbone.deadLetters()
            #expect(dead.map(\.eventID) == [first[0]])
            #expect(dead.first?.attempts == 3)
            effects = try await Base.effects(database, tenant: tenant)
            #expect(Set(effects.map(\.eventID)) == [first[1], later[1], later[0]])
            // Fixed, the dead letter is replayed and applied.
            plan.heal(first[0])
            #expect(try await backbone.replay(eventID: first[0]) == 1)
            try await Self.drain(backbone, groups: ["alpha"])
            effects = try await Base.effects(database, tenant: tenant)
            #expect(effects.map(\.eventID).filter { $0 == first[0] }.count == 1)
            #expect(try await backbone.deadLetters().isEmpty)
        }
    }
}
