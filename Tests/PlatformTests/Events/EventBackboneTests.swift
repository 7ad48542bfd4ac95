import Foundation
import Kernel
import Logging
import Platform
import Prometheus
import SQLKit
import Synchronization
import TestSupport
import Testing

/// One suite for every transport: the database alone (SQLite, PostgreSQL) and Redis Streams in front of either.
/// Events commit with their change; each consumer group applies each event once, in order per aggregate, through
/// failures, lost workers and poison events. Where a test has to play a lost worker, it does so in the transport's
/// own terms (a leased row in the database, an unacknowledged entry in Redis); everything it checks is the same.
@Suite struct EventBackboneTests {
    /// Where the events travel.
    struct Transport: Sendable, CustomStringConvertible {
        let backend: TestBackend
        let redis: Bool
        var description: String { redis ? "\(backend)+redis" : backend.description }

        /// The database transport on each available database; Redis Streams in front of each when a Redis is there
        /// (always under `CI=true`, where a missing server then fails the test).
        static var all: [Transport] {
            let database = TestBackend.available.map { Transport(backend: $0, redis: false) }
            guard TestEnvironment.redisURL != nil || TestEnvironment.isCI else { return database }
            return database + TestBackend.available.map { Transport(backend: $0, redis: true) }
        }
    }

    /// What test consumers write: one row per application of an event (duplicates would show as two rows).
    static let effects = Migration(module: "eventtests", number: 1, name: "create_effects") { dialect in
        [
            """
            CREATE TABLE event_test_effects (
                n \(dialect == .postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                consumer_group TEXT NOT NULL,
                event_id TEXT NOT NULL,
                tenant_id \(dialect.uuidType) NOT NULL,
                aggregate TEXT NOT NULL,
                position INTEGER NOT NULL
            )
            """
        ] + TenantIsolation.statements(table: "event_test_effects", dialect: dialect)
    }

    struct Payload: Codable {
        let position: Int
    }

    /// Records each event it handles; fails (after writing its effect, which the rollback must undo) as `plan`
    /// says, and takes `delay` per event.
    struct RecordingConsumer: EventConsumer {
        let group: String
        var eventTypes: [String] = ["test.thing.changed"]
        var plan = FailurePlan()
        var delay: Duration = .zero

        func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
            let payload = try JSONDecoder().decode(Payload.self, from: Data(event.data.text.utf8))
            try await transaction.sql.raw(
                """
                INSERT INTO event_test_effects (consumer_group, event_id, tenant_id, aggregate, position)
                VALUES (\(bind: group), \(bind: event.id), \(transaction.bind(try transaction.requireTenant())),
                        \(bind: event.subject ?? ""), \(bind: payload.position))
                """
            ).run()
            if delay > .zero { try await Task.sleep(for: delay) }
            if plan.shouldFail(event.id) { throw TestFailure.planned(event.id) }
        }
    }

    enum TestFailure: Error { case planned(String) }

    /// Which events fail, and how many times each (`Int.max`: always).
    final class FailurePlan: Sendable {
        let remaining = Mutex<[String: Int]>([:])
        func fail(_ eventID: String, times: Int) { remaining.withLock { $0[eventID] = times } }
        func shouldFail(_ eventID: String) -> Bool {
            remaining.withLock { remaining in
                guard let left = remaining[eventID], left > 0 else { return false }
                remaining[eventID] = left == Int.max ? left : left - 1
                return true
            }
        }
        func heal(_ eventID: String) { remaining.withLock { $0[eventID] = nil } }
    }

    static func settings(batch: Int = 50, maxAttempts: Int = 8) -> EventBackboneSettings {
        var settings = EventBackboneSettings()
        settings.batchSize = batch
        settings.maxAttempts = maxAttempts
        settings.firstRetryDelay = .milliseconds(5)
        settings.maxRetryDelay = .milliseconds(50)
        settings.pollInterval = .milliseconds(10)
        settings.lease = .seconds(30)
        return settings
    }

    static func event(tenant: TenantID, aggregate: String, position: Int) throws -> EventEnvelope {
        EventEnvelope(
            source: "/tests", type: "test.thing.changed", subject: aggregate, tenant: tenant, traceparent: nil,
            data: try JSONDocument(encoding: Payload(position: position)))
    }

    /// Appends `count` events per aggregate, one transaction per event, positions 0, 1, ... per aggregate; returns
    /// the event ids.
    @discardableResult
    static func append(
        _ database: any Database, tenant: TenantID, aggregates: [String], count: Int
    ) async throws -> [String] {
        var ids: [String] = []
        for position in 0..<count {
            for aggregate in aggregates {
                let event = try Self.event(tenant: tenant, aggregate: aggregate, position: position)
                try await database.write(tenant: tenant) { tx in
                    try await Outbox.append(event, aggregateType: "thing", aggregateID: aggregate, in: tx)
                }
                ids.append(event.id)
            }
        }
        return ids
    }

    struct Effect: Equatable {
        let group: String
        let eventID: String
        let aggregate: String
        let position: Int
    }

    static func effects(_ database: any Database, tenant: TenantID) async throws -> [Effect] {
        try await database.read(tenant: tenant) { tx in
            try await tx.sql.raw(
                """
                SELECT consumer_group, event_id, aggregate, position FROM event_test_effects
                WHERE tenant_id = \(tx.bind(tenant)) ORDER BY n
                """
            ).all().map { row in
                Effect(
                    group: try row.decode(column: "consumer_group", as: String.self),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    aggregate: try row.decode(column: "aggregate", as: String.self),
                    position: try row.decode(column: "position", as: Int.self))
            }
        }
    }

    static func count(_ database: any Database, _ sql: String) async throws -> Int {
        try await database.systemRead { tx in
            try await tx.sql.raw(SQLQueryString("SELECT COUNT(*) AS n FROM " + sql)).first()?.decode(
                column: "n", as: Int.self) ?? -1
        }
    }

    /// One pass of `worker` for `group`: its Redis partitions first (with Redis), then the database's deliveries
    /// (retries, and everything without Redis). Returns how many events it handled.
    static func consume(_ backbone: EventBackbone, group: String, worker: String) async throws -> Int {
        var handled = 0
        if backbone.redis != nil { handled += try await backbone.consumeRedis(group: group, worker: worker) }
        return handled + (try await backbone.consumeBatch(group: group, worker: worker))
    }

    /// Whether nothing is left for `groups`: nothing to relay, no open delivery in the database, and in Redis no
    /// entry unread or read and unacknowledged.
    static func isDrained(_ backbone: EventBackbone, groups: [String]) async throws -> Bool {
        guard try await count(backbone.database, "event_deliveries WHERE status <> 'dead'") == 0,
            try await count(backbone.database, "event_outbox WHERE relayed_at IS NULL") == 0
        else { return false }
        guard let redis = backbone.redis else { return true }
        for partition in 0..<redis.partitions {
            let stream = redis.stream(partition)
            let last = try await redis.client.send(["XREVRANGE", stream, "+", "-", "COUNT", "1"]).array?.first?
                .array?.first?.string
            let info = try await redis.client.send(["XINFO", "GROUPS", stream])
            for group in info.array ?? [] {
                var values: [String: RESPValue] = [:]
                for field in group.map ?? [] { if let key = field.key.string { values[key] = field.value } }
                guard let name = values["name"]?.string, groups.contains(name) else { continue }
                if (values["pending"]?.int ?? 0) > 0 { return false }
                if let last, let delivered = values["last-delivered-id"]?.string,
                    EventBackbone.streamID(delivered, isBefore: last)
                {
                    return false
                }
            }
        }
        return true
    }

    /// Relays and consumes (one worker per group, in turn) until nothing is left that is ready now; waits out
    /// retry delays up to `patience`.
    static func drain(
        _ backbone: EventBackbone, groups: [String], patience: Duration = .seconds(120)
    ) async throws {
        let deadline = ContinuousClock.now + patience
        while ContinuousClock.now < deadline {
            var handled = try await backbone.relayBatch(lookFirst: false)
            for group in groups { handled += try await consume(backbone, group: group, worker: "\(group)-w") }
            if handled == 0 {
                if try await isDrained(backbone, groups: groups) { return }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        Issue.record("events did not drain within \(patience)")
    }

    static func makeTenant(_ database: any Database, _ slug: String) async throws -> TenantID {
        try await TenantStore(database: database).create(slug: slug, name: slug).id
    }

    static func withDatabase(
        _ backend: TestBackend, _ body: @Sendable (any Database, TenantID) async throws -> Void
    ) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + [effects]) { database, _ in
            let tenant = try await makeTenant(database, "events")
            try await body(database, tenant)
        }
    }

    /// A backbone on `transport` with its subscriptions registered; with Redis, on streams of its own (a fresh key
    /// prefix), 4 partitions and a 3 s lease (a dead reader's entries are taken over after half of it; shorter, a
    /// loaded machine lets a worker's own lease run out between two steps of one pass).
    static func withBackbone(
        _ transport: Transport, consumers: [any EventConsumer], settings: EventBackboneSettings = settings(),
        _ body: @Sendable (EventBackbone, any Database, TenantID) async throws -> Void
    ) async throws {
        var redis: RedisEventTransport?
        if transport.redis {
            let url = try #require(TestEnvironment.redisURL, "INOPSIO_TEST_REDIS_URL is not set")
            var redisTransport = RedisEventTransport(
                client: try RedisClient(configuration: try RedisConfiguration(url: url), logger: TestEnvironment.logger)
            )
            redisTransport.prefix = "test:\(UUID().uuidString.prefix(8))"
            redisTransport.partitions = 4
            redisTransport.lease = .seconds(3)
            redis = redisTransport
        }
        let finalRedis = redis
        do {
            try await withDatabase(transport.backend) { database, tenant in
                let backbone = EventBackbone(
                    database: database, consumers: consumers, settings: settings, logger: TestEnvironment.logger,
                    redis: finalRedis)
                try await backbone.registerSubscriptions()
                try await body(backbone, database, tenant)
            }
        } catch {
            await redis?.client.shutdown()
            throw error
        }
        await redis?.client.shutdown()
    }

    @Test(arguments: Transport.all)
    func committedEventsAreAppliedOncePerGroupAndRolledBackOnesNever(_ transport: Transport) async throws {
        let consumers = [RecordingConsumer(group: "alpha"), RecordingConsumer(group: "beta")]
        try await Self.withBackbone(transport, consumers: consumers, settings: Self.settings(batch: 7)) {
            backbone, database, tenant in
            let ids = try await Self.append(database, tenant: tenant, aggregates: ["a", "b", "c"], count: 10)
            // A change that rolls back takes its event with it.
            let lost = try Self.event(tenant: tenant, aggregate: "a", position: 99)
            await #expect(throws: TestFailure.self) {
                try await database.write(tenant: tenant) { tx in
                    try await Outbox.append(lost, aggregateType: "thing", aggregateID: "a", in: tx)
                    throw TestFailure.planned("rollback")
                }
            }
            // An event nobody subscribes to is applied by nobody.
            let other = EventEnvelope(
                source: "/tests", type: "test.other", subject: "z", tenant: tenant, traceparent: nil,
                data: try JSONDocument(encoding: Payload(position: 0)))
            try await database.write(tenant: tenant) { tx in
                try await Outbox.append(other, aggregateType: "thing", aggregateID: "z", in: tx)
            }
            try await Self.drain(backbone, groups: ["alpha", "beta"])
            let effects = try await Self.effects(database, tenant: tenant)
            for group in ["alpha", "beta"] {
                #expect(effects.filter { $0.group == group }.map(\.eventID).sorted() == ids.sorted())
            }
            #expect(!effects.contains { $0.eventID == lost.id || $0.eventID == other.id })
            #expect(try await Self.count(database, "event_processed") == 60)
            try await backbone.cleanUp()
            #expect(try await Self.count(database, "event_outbox") == 0)
            #expect(try await Self.count(database, "event_deliveries") == 0)
        }
    }

    /// One batch holding several tenants' events applies each under its own tenant (on PostgreSQL, the
    /// effects table's row-level security refuses a row written under another tenant's setting).
    @Test(arguments: Transport.all)
    func aBatchOfSeveralTenantsEventsAppliesEachUnderItsTenant(_ transport: Transport) async throws {
        try await Self.withBackbone(transport, consumers: [RecordingConsumer(group: "alpha")]) {
            backbone, database, tenant in
            let other = try await Self.makeTenant(database, "other")
            var mine: [String] = []
            var theirs: [String] = []
            for index in 0..<6 {
                mine += try await Self.append(database, tenant: tenant, aggregates: ["m\(index)"], count: 1)
                theirs += try await Self.append(database, tenant: other, aggregates: ["t\(index)"], count: 1)
            }
            try await Self.drain(backbone, groups: ["alpha"])
            // All twelve in their batches' transactions: none needed the one-by-one fallback.
            #expect(backbone.statistics.appliedTogether == 12)
            #expect(backbone.statistics.batchFallbacks == 0)
            #expect(try await Self.effects(database, tenant: tenant).map(\.eventID).sorted() == mine.sorted())
            #expect(try await Self.effects(database, tenant: other).map(\.eventID).sorted() == theirs.sorted())
            #expect(try await Self.count(database, "event_deliveries") == 0)
        }
    }

    @Test(arguments: Transport.all)
    func failuresMidBatchAreRetriedWithoutDuplicateEffects(_ transport: Transport) async throws {
        let consumer = RecordingConsumer(group: "alpha")
        try await Self.withBackbone(transport, consumers: [consumer], settings: Self.settings(batch: 10)) {
            backbone, database, tenant in
            let ids = try await Self.append(database, tenant: tenant, aggregates: ["a", "b", "c", "d"], count: 5)
            // Events in the middle of the first batches fail after writing their effect, one twice.
            consumer.plan.fail(ids[1], times: 1)
            consumer.plan.fail(ids[6], times: 2)
            consumer.plan.fail(ids[13], times: 1)
            try await Self.drain(backbone, groups: ["alpha"])
            let effects = try await Self.effects(database, tenant: tenant)
            #expect(effects.map(\.eventID).sorted() == ids.sorted())
            #expect(Set(effects.map(\.eventID)).count == effects.count)
            for aggregate in ["a", "b", "c", "d"] {
                #expect(effects.filter { $0.aggregate == aggregate }.map(\.position) == Array(0..<5))
            }
            // The failures rolled their batches back and the batches were applied one by one (with Redis, the
            // failures may share one partition's batch).
            #expect(backbone.statistics.batchFallbacks >= (transport.redis ? 1 : 2))
            #expect(try await backbone.deadLetters().isEmpty)
        }
    }

    /// A worker took events and died before applying any: another takes them over (once the database lease ran
    /// out, or once the Redis entries were idle for half the partition lease), applies each once, in order.
    @Test(arguments: Transport.all)
    func aLostWorkersEventsAreTakenOverOnce(_ transport: Transport) async throws {
        try await Self.withBackbone(transport, consumers: [RecordingConsumer(group: "alpha")]) {
            backbone, database, tenant in
            let ids = try await Self.append(database, tenant: tenant, aggregates: ["a", "b"], count: 3)
            try await backbone.relayBatch()
            if let redis = backbone.redis {
                for partition in 0..<redis.partitions {
                    _ = try await redis.client.send([
                        "XREADGROUP", "GROUP", "alpha", "gone", "COUNT", "2", "STREAMS", redis.stream(partition), ">",
                    ])
                }
            } else {
                try await database.system { tx in
                    try await tx.sql.raw(
                        """
                        UPDATE event_deliveries SET status = 'leased', leased_by = 'gone', lease_until = 0,
                            attempts = 1
                        WHERE seq IN (SELECT MIN(seq) FROM event_deliveries GROUP BY aggregate_key)
                        """
                    ).run()
                }
            }
            try await Self.drain(backbone, groups: ["alpha"])
            let effects = try await Self.effects(database, tenant: tenant)
            #expect(effects.map(\.eventID).sorted() == ids.sorted())
            for aggregate in ["a", "b"] {
                #expect(effects.filter { $0.aggregate == aggregate }.map(\.position) == [0, 1, 2])
            }
            #expect(try await backbone.deadLetters().isEmpty)
        }
    }

    /// An event whose worker died on each of its tries is given up, and its aggregate's later event goes on.
    @Test(arguments: Transport.all)
    func anEventWhoseWorkerKeepsDyingGoesToTheDeadLetters(_ transport: Transport) async throws {
        try await Self.withBackbone(
            transport, consumers: [RecordingConsumer(group: "alpha")], settings: Self.settings(maxAttempts: 3)
        ) { backbone, database, tenant in
            let ids = try await Self.append(database, tenant: tenant, aggregates: ["a"], count: 2)
            try await backbone.relayBatch()
            if let redis = backbone.redis {
                // Read by a worker that died, then taken over and lost twice more: delivered 3 times, idle since.
                let stream = redis.stream(redis.partition(of: "thing:a"))
                let read = try await redis.client.send([
                    "XREADGROUP", "GROUP", "alpha", "gone", "COUNT", "1", "STREAMS", stream, ">",
                ])
                let entry = try #require(read.map?.first?.value.array?.first?.array?.first?.string)
                _ = try await redis.client.send([
                    "XCLAIM", stream, "alpha", "gone", "0", entry, "IDLE", "60000", "RETRYCOUNT", "3",
                ])
            } else {
                try await database.system { tx in
                    try await tx.sql.raw(
                        """
                        UPDATE event_deliveries SET status = 'leased', leased_by = 'gone', lease_until = 0,
                            attempts = 3
                        WHERE event_id = \(bind: ids[0])
                        """
                    ).run()
                }
            }
            try await Self.drain(backbone, groups: ["alpha"])
            let dead = try await backbone.deadLetters()
            #expect(dead.map(\.eventID) == [ids[0]])
            #expect(dead.first?.attempts == 3)
            #expect(dead.first?.lastError.contains("lease ran out") == true)
            #expect(try await Self.effects(database, tenant: tenant).map(\.eventID) == [ids[1]])
        }
    }

    @Test(arguments: Transport.all)
    func aPoisonEventGoesToTheDeadLettersWithoutHoldingItsAggregateAndCanBeReplayed(_ transport: Transport)
        async throws
    {
        let consumer = RecordingConsumer(group: "alpha")
        try await Self.withBackbone(transport, consumers: [consumer], settings: Self.settings(maxAttempts: 3)) {
            backbone, database, tenant in
            let ids = try await Self.append(database, tenant: tenant, aggregates: ["a"], count: 3)
            consumer.plan.fail(ids[1], times: Int.max)
            try await Self.drain(backbone, groups: ["alpha"])
            let dead = try await backbone.deadLetters()
            #expect(dead.count == 1)
            #expect(dead.first?.eventID == ids[1])
            #expect(dead.first?.attempts == 3)
            #expect(dead.first?.group == "alpha")
            #expect(dead.first?.eventType == "test.thing.changed")
            #expect(dead.first?.lastError.contains("planned") == true)
            // The aggregate's later event went on once the poison one was given up.
            #expect(try await Self.effects(database, tenant: tenant).map(\.position) == [0, 2])
            // Fixed, the event is replayed and applied (once).
            consumer.plan.heal(ids[1])
            #expect(try await backbone.replay(eventID: ids[1]) == 1)
            #expect(try await backbone.replay(eventID: ids[1]) == 0)
            try await Self.drain(backbone, groups: ["alpha"])
            #expect(try await Self.effects(database, tenant: tenant).map(\.position) == [0, 2, 1])
            #expect(try await backbone.deadLetters().isEmpty)
        }
    }

    @Test(arguments: Transport.all)
    func orderPerAggregateHoldsWithFourConcurrentWorkers(_ transport: Transport) async throws {
        let consumer = RecordingConsumer(group: "alpha", delay: .milliseconds(1))
        try await Self.withBackbone(transport, consumers: [consumer], settings: Self.settings(batch: 5)) {
            backbone, database, tenant in
            let aggregates = (0..<8).map { "agg\($0)" }
            let ids = try await Self.append(database, tenant: tenant, aggregates: aggregates, count: 12)
            // A few failures make retries interleave with the other workers' progress.
            for index in stride(from: 3, to: ids.count, by: 17) { consumer.plan.fail(ids[index], times: 1) }
            try await backbone.relayBatch()
            try await withThrowingTaskGroup(of: Void.self) { workers in
                workers.addTask {
                    while try await Self.count(database, "event_outbox WHERE relayed_at IS NULL") > 0 {
                        try await backbone.relayBatch()
                    }
                }
                for worker in 0..<4 {
                    workers.addTask {
                        let deadline = ContinuousClock.now + .seconds(120)
                        while ContinuousClock.now < deadline {
                            let handled = try await Self.consume(backbone, group: "alpha", worker: "w\(worker)")
                            if handled == 0 {
                                // Done when nothing is left to relay or to apply (the relay runs beside).
                                if try await Self.isDrained(backbone, groups: ["alpha"]) { return }
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                }
                try await workers.waitForAll()
            }
            let effects = try await Self.effects(database, tenant: tenant)
            #expect(effects.count == ids.count)
            for aggregate in aggregates {
                #expect(effects.filter { $0.aggregate == aggregate }.map(\.position) == Array(0..<12))
            }
        }
    }

    @Test(arguments: Transport.all)
    func theServicesDeliverWhatIsCommittedWhileTheyRun(_ transport: Transport) async throws {
        try await Self.withBackbone(transport, consumers: [RecordingConsumer(group: "alpha")]) {
            backbone, database, tenant in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in backbone.services { group.addTask { try await service.run() } }
                let ids = try await Self.append(database, tenant: tenant, aggregates: ["a", "b"], count: 5)
                let deadline = ContinuousClock.now + .seconds(120)
                var applied = 0
                while ContinuousClock.now < deadline {
                    applied = try await Self.effects(database, tenant: tenant).count
                    if applied >= ids.count { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(applied == ids.count)
                group.cancelAll()
            }
        }
    }

    /// With polling made too slow to matter (ten minutes), events still arrive: on PostgreSQL through
    /// `LISTEN/NOTIFY`, on SQLite through the appending process waking its own relay; the relay then wakes the
    /// workers (with Redis too).
    @Test(arguments: Transport.all)
    func wakeUpsDeliverWithoutWaitingForThePoll(_ transport: Transport) async throws {
        var settings = Self.settings()
        settings.pollInterval = .seconds(600)
        try await Self.withBackbone(transport, consumers: [RecordingConsumer(group: "alpha")], settings: settings) {
            backbone, database, tenant in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in backbone.services { group.addTask { try await service.run() } }
                // The listener may not be listening yet when the first events commit: they are picked up with
                // the first one it hears about.
                var appended: [String] = []
                let deadline = ContinuousClock.now + .seconds(60)
                var applied = 0
                while applied < appended.count || appended.isEmpty, ContinuousClock.now < deadline {
                    if applied == 0 {
                        appended += try await Self.append(
                            database, tenant: tenant, aggregates: ["w\(appended.count)"], count: 1)
                    }
                    try await Task.sleep(for: .milliseconds(100))
                    applied = try await Self.effects(database, tenant: tenant).count
                }
                #expect(!appended.isEmpty)
                #expect(applied == appended.count)
                group.cancelAll()
            }
        }
    }

    @Test(arguments: Transport.all)
    func manyEventsAppendedInOneTransactionAreAllDelivered(_ transport: Transport) async throws {
        try await Self.withBackbone(
            transport, consumers: [RecordingConsumer(group: "alpha")], settings: Self.settings(batch: 200)
        ) { backbone, database, tenant in
            // 1,200 events over 60 aggregates: a database claim takes one event per aggregate, so 20 rounds or more.
            let entries = try (0..<1_200).map { index in
                Outbox.Entry(
                    try Self.event(tenant: tenant, aggregate: "b\(index % 60)", position: index / 60),
                    aggregateType: "thing", aggregateID: "b\(index % 60)")
            }
            try await database.write(tenant: tenant) { tx in try await Outbox.append(entries, in: tx) }
            try await Self.drain(backbone, groups: ["alpha"])
            let effects = try await Self.effects(database, tenant: tenant)
            #expect(effects.map(\.eventID).sorted() == entries.map(\.event.id).sorted())
            for aggregate in 0..<60 {
                let positions = effects.filter { $0.aggregate == "b\(aggregate)" }.map(\.position)
                #expect(positions == Array(0..<20))
            }
        }
    }

    @Test(arguments: Transport.all)
    func theBacklogShowsInMetricsAndReadiness(_ transport: Transport) async throws {
        let consumer = RecordingConsumer(group: "alpha")
        let registry = PrometheusCollectorRegistry()
        let readiness = ReadinessDetails()
        // The backbone is made here (with its metrics and readiness), on the database and Redis of `withBackbone`.
        try await Self.withBackbone(transport, consumers: []) { plain, database, tenant in
            let backbone = EventBackbone(
                database: database, consumers: [consumer], settings: Self.settings(maxAttempts: 1),
                logger: TestEnvironment.logger, metrics: registry, readiness: readiness, redis: plain.redis)
            try await backbone.registerSubscriptions()
            #expect(readiness.snapshot().first { $0.name == "events" }?.value == "not counted yet")
            let ids = try await Self.append(database, tenant: tenant, aggregates: ["a", "b"], count: 2)
            consumer.plan.fail(ids[0], times: Int.max)
            #expect(try await backbone.countBacklog().unrelayed == 4)
            try await Self.drain(backbone, groups: ["alpha"])
            let backlog = try await backbone.countBacklog()
            #expect(backlog.unrelayed == 0 && backlog.open == 0 && backlog.deadLetters == 1)
            #expect(
                readiness.snapshot().first { $0.name == "events" }?.value
                    == "0 to hand out, 0 in delivery, 1 dead letters")
            var exposition: [UInt8] = []
            registry.emit(into: &exposition)
            let text = String(decoding: exposition, as: UTF8.self)
            #expect(text.contains("events_dead_letters 1"))
            #expect(text.contains("events_applied_total 3"))
            #expect(text.contains("events_dead_lettered_total 1"))
        }
    }

    /// A worker stopped while applying a batch gives the batch back at once (its transaction rolled back), rather
    /// than leaving it to wait out its lease.
    @Test(arguments: TestBackend.available)
    func aWorkerStoppedMidBatchGivesItsBatchBack(_ backend: TestBackend) async throws {
        let consumer = RecordingConsumer(group: "alpha", delay: .milliseconds(300))
        try await Self.withBackbone(.init(backend: backend, redis: false), consumers: [consumer]) {
            backbone, database, tenant in
            try await Self.append(database, tenant: tenant, aggregates: ["a", "b", "c"], count: 1)
            try await backbone.relayBatch()
            let worker = Task { try await backbone.consumeBatch(group: "alpha", worker: "stopping") }
            // Stopped while the batch is being applied (the first event alone takes 300 ms).
            let deadline = ContinuousClock.now + .seconds(60)
            while try await Self.count(database, "event_deliveries WHERE status = 'leased'") == 0,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(50))
            worker.cancel()
            _ = try? await worker.value
            #expect(try await Self.count(database, "event_deliveries WHERE status = 'pending' AND attempts = 0") == 3)
            #expect(try await Self.effects(database, tenant: tenant).isEmpty)
            try await Self.drain(backbone, groups: ["alpha"])
            #expect(try await Self.effects(database, tenant: tenant).count == 3)
        }
    }

    @Test(arguments: TestBackend.available)
    func theOutboxRefusesAnEventOfAnotherTenant(_ backend: TestBackend) async throws {
        try await Self.withDatabase(backend) { database, tenant in
            let other = try await Self.makeTenant(database, "other")
            let event = try Self.event(tenant: other, aggregate: "a", position: 0)
            await #expect(throws: OutboxError.tenantMismatch) {
                try await database.write(tenant: tenant) { tx in
                    try await Outbox.append(event, aggregateType: "thing", aggregateID: "a", in: tx)
                }
            }
        }
    }

    @Test func retryDelaysGrowFourfoldUpToTheLimit() {
        var settings = EventBackboneSettings()
        settings.maxRetryDelay = .seconds(100)
        #expect(
            (1...6).map { settings.retryDelay(afterAttempt: $0) } == [
                .milliseconds(500), .seconds(2), .seconds(8), .seconds(32), .seconds(100), .seconds(100),
            ])
    }
}
