import Foundation
import Kernel
import Logging
import Prometheus
import SQLKit
import ServiceLifecycle
import Synchronization

/// The in-database event transport (SQLite and PostgreSQL): the relay fans committed outbox events out to the
/// subscribed consumer groups; each group's workers claim deliveries, apply them in the consumer's own
/// transaction and record the event id there, so an event's effects are applied once per group however often it
/// is delivered. Failed events are retried with growing delays, then kept as dead letters.
///
/// Ordering: a group receives the events of one aggregate in the order the relay saw them committed, one at a
/// time: a delivery is not claimed while an earlier delivery of the same aggregate to the same group is pending
/// or claimed (a dead one no longer holds the others back).
package final class EventBackbone: Sendable {
    package let database: any Database
    package let settings: EventBackboneSettings
    let consumers: [String: any EventConsumer]
    /// The Redis Streams transport, when this installation uses it (else events go through the database only).
    package let redis: RedisEventTransport?
    /// Stream/group pairs this process has made sure exist.
    let redisGroups = Mutex<Set<String>>([])
    /// `group|partition|worker` where this worker must first claim what is pending (newly taken, or after a
    /// failed pass).
    let redisToClaim = Mutex<Set<String>>([])
    /// `group|partition|worker` → passes in a row that found nothing there (an idle partition is let go after a few).
    let redisIdlePasses = Mutex<[String: Int]>([:])
    /// Per group, when this process last gave up deliveries whose leases ran out after their last try.
    let exhaustedLeaseSweeps = Mutex<[String: ContinuousClock.Instant]>([:])
    let logger: Logger
    let clock: any WallClock
    /// Per group: rung by the relay when it handed the group events, so this process's idle workers of the group
    /// start at once (as many as the events need, not all of them to find one batch).
    let handedOut: [String: EventSignal]
    /// This backbone among the processes' (its own "events handed out" notifications are not for it).
    let instance = UUID().uuidString.prefix(8).lowercased()

    /// Wakes idle workers of the groups given events: per group, one for each batch's worth (`nil`: all of them).
    func wake(_ groups: [String: Int?]) {
        for (group, count) in groups {
            guard let signal = handedOut[group] else { continue }
            if let count {
                signal.signal(wakingAtMost: max(1, (count + settings.batchSize - 1) / settings.batchSize))
            } else {
                signal.signal()
            }
        }
    }

    /// Wakes every idle worker of every group in this process.
    func wakeAll() {
        for signal in handedOut.values { signal.signal() }
    }
    /// Counts of how deliveries were applied in this process (for tests and, later, metrics).
    package struct Statistics: Sendable, Equatable {
        package var appliedTogether = 0
        package var appliedAlone = 0
        /// Batches rolled back because one of their events failed, then applied one by one.
        package var batchFallbacks = 0
    }

    let counters = Mutex(Statistics())
    package var statistics: Statistics { counters.withLock { $0 } }

    /// What is waiting, as last counted by the relay service (every 10 s).
    package struct Backlog: Sendable, Equatable {
        /// Committed events not yet handed out.
        package var unrelayed = 0
        /// Deliveries pending or claimed.
        package var open = 0
        package var deadLetters = 0
        package var countedAt: Date?
    }

    private let backlogState = Mutex(Backlog())
    package var backlog: Backlog { backlogState.withLock { $0 } }
    private let gauges: (unrelayed: Gauge, open: Gauge, dead: Gauge)?
    let outcomes: (applied: Counter, failed: Counter, dead: Counter)?

    /// `metrics`: where to export `events_outbox_backlog`, `events_deliveries_open`, `events_dead_letters` and
    /// the `events_applied_total`, `events_failed_total`, `events_dead_lettered_total` counters; `readiness`: where
    /// `/ready` shows the backlog.
    package init(
        database: any Database, consumers: [any EventConsumer], settings: EventBackboneSettings = .init(),
        logger: Logger, clock: any WallClock = SystemWallClock(), metrics: PrometheusCollectorRegistry? = nil,
        readiness: ReadinessDetails? = nil, redis: RedisEventTransport? = nil
    ) {
        self.redis = redis
        self.database = database
        self.settings = settings
        self.consumers = Dictionary(consumers.map { ($0.group, $0) }, uniquingKeysWith: { first, _ in first })
        self.handedOut = self.consumers.mapValues { _ in EventSignal() }
        self.logger = logger
        self.clock = clock
        gauges = metrics.map { registry in
            (
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_outbox_backlog", unitName: "",
                        helpText: "Committed events not yet handed out")),
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_deliveries_open", unitName: "",
                        helpText: "Event deliveries pending or claimed")),
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_dead_letters", unitName: "",
                        helpText: "Event deliveries given up (kept 7 days)"))
            )
        }
        outcomes = metrics.map { registry in
            (
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_applied", unitName: "total",
                        helpText: "Events applied by this process's consumer groups")),
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_failed", unitName: "total",
                        helpText: "Event applications that failed (each is retried or dead-lettered)")),
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_dead_lettered", unitName: "total",
                        helpText: "Events moved to the dead letters by this process"))
            )
        }
        readiness?.register("events") { [weak self] in
            guard let backlog = self?.backlog else { return "stopped" }
            guard backlog.countedAt != nil else { return "not counted yet" }
            return "\(backlog.unrelayed) to hand out, \(backlog.open) in delivery, \(backlog.deadLetters) dead letters"
        }
    }

    /// Counts what is waiting (for `/ready` and the gauges).
    @discardableResult
    package func countBacklog() async throws -> Backlog {
        let row = try await database.readOutsideTransaction { tx in
            try await tx.sql.raw(
                """
                SELECT (SELECT COUNT(*) FROM event_outbox WHERE relayed_at IS NULL) AS unrelayed,
                       (SELECT COUNT(*) FROM event_deliveries WHERE status <> 'dead') AS open_deliveries,
                       (SELECT COUNT(*) FROM event_deliveries WHERE status = 'dead') AS dead
                """
            ).first()
        }
        let backlog = Backlog(
            unrelayed: try row?.decode(column: "unrelayed", as: Int.self) ?? 0,
            open: try row?.decode(column: "open_deliveries", as: Int.self) ?? 0,
            deadLetters: try row?.decode(column: "dead", as: Int.self) ?? 0, countedAt: clock.now())
        backlogState.withLock { $0 = backlog }
        if let gauges {
            gauges.unrelayed.set(Int64(backlog.unrelayed))
            gauges.open.set(Int64(backlog.open))
            gauges.dead.set(Int64(backlog.deadLetters))
        }
        return backlog
    }

    var now: Int64 { clock.now().epochMilliseconds }

    // MARK: Subscriptions

    /// Records which event types this process's consumer groups want (from then on the relay hands them out).
    package func registerSubscriptions() async throws {
        if let redis { try await createRedisGroups(redis) }
        // In one order in every process: processes starting together insert the same rows, and two transactions
        // taking them in different orders deadlock (the dictionary's order differs from process to process).
        let pairs = consumers.values.flatMap { consumer in consumer.eventTypes.map { (consumer.group, $0) } }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        guard !pairs.isEmpty else { return }
        try await database.system { tx in
            for (group, type) in pairs {
                try await tx.sql.raw(
                    """
                    INSERT INTO event_subscriptions (consumer_group, event_type) VALUES (\(bind: group), \(bind: type))
                    ON CONFLICT (consumer_group, event_type) DO NOTHING
                    """
                ).run()
            }
        }
    }

    // MARK: Relay

    /// Hands the next committed, not yet relayed outbox events to the subscribed groups, in one transaction: a
    /// relay stopped at any point either did all of a batch or none of it. Returns how many events it took.
    /// `lookFirst`: check with a read before taking the write lock (polling); false when told events were written.
    @discardableResult
    package func relayBatch(lookFirst: Bool = true) async throws -> Int {
        // Looked at without a write transaction first: an idle relay must not take SQLite's write lock every poll.
        if lookFirst {
            let waiting = try await database.readOutsideTransaction { tx in
                try await tx.sql.raw("SELECT 1 AS waiting FROM event_outbox WHERE relayed_at IS NULL LIMIT 1").first()
            }
            guard waiting != nil else { return 0 }
        }
        if let redis { return try await relayToRedis(redis) }
        let batchSize = settings.batchSize
        let now = self.now
        let relayed = try await database.system { tx -> (count: Int, groups: [String: Int?]) in
            if tx.dialect == .postgres {
                // One relay at a time across processes: two interleaving batches could hand out a later event of
                // an aggregate before an earlier one.
                let locked = try await tx.sql.raw("SELECT pg_try_advisory_xact_lock(726100003) AS locked").first()
                guard try locked?.decode(column: "locked", as: Bool.self) == true else { return (0, [:]) }
                return try await relayInOneStatement(tx, batchSize: batchSize, now: now)
            }
            let rows = try await tx.sql.raw(
                """
                SELECT seq, id, aggregatetype, aggregateid, type, tenant_id FROM event_outbox
                WHERE relayed_at IS NULL ORDER BY seq LIMIT \(bind: batchSize)
                """
            ).all()
            guard !rows.isEmpty else { return (0, [:]) }
            var subscribers: [String: [String]] = [:]
            for row in try await tx.sql.raw("SELECT consumer_group, event_type FROM event_subscriptions").all() {
                subscribers[try row.decode(column: "event_type", as: String.self), default: []].append(
                    try row.decode(column: "consumer_group", as: String.self))
            }
            var deliveries: [SQLQueryString] = []
            var perGroup: [String: Int?] = [:]
            var sequences: [Int64] = []
            for row in rows {
                sequences.append(try row.decode(column: "seq", as: Int64.self))
                let type = try row.decode(column: "type", as: String.self)
                let groups = Set((subscribers[type] ?? []) + (subscribers["*"] ?? []))
                guard !groups.isEmpty else { continue }
                let id = try row.decode(column: "id", as: String.self)
                let key =
                    try row.decode(column: "aggregatetype", as: String.self) + ":"
                    + row.decode(column: "aggregateid", as: String.self)
                let tenant = tx.bind(TenantID(try row.decodeUUID(column: "tenant_id")))
                for group in groups.sorted() {
                    perGroup[group] = (perGroup[group] ?? 0).map { $0 + 1 }
                    deliveries.append(
                        "(\(bind: group), \(bind: id), \(bind: type), \(bind: key), \(tenant), \(bind: now))")
                }
            }
            // Chunks keep every statement far below both engines' limits on bound values.
            for start in stride(from: 0, to: deliveries.count, by: 500) {
                let chunk = deliveries[start..<min(start + 500, deliveries.count)]
                var statement: SQLQueryString =
                    "INSERT INTO event_deliveries (consumer_group, event_id, event_type, aggregate_key, tenant_id, available_at) VALUES "
                for (index, values) in chunk.enumerated() {
                    if index > 0 { statement.appendLiteral(", ") }
                    statement.appendInterpolation(values)
                }
                statement.appendLiteral(" ON CONFLICT (consumer_group, event_id) DO NOTHING")
                try await tx.sql.raw(statement).run()
            }
            try await tx.sql.raw(
                "UPDATE event_outbox SET relayed_at = \(bind: now) WHERE seq IN (\(binds: sequences))"
            ).run()
            return (rows.count, perGroup)
        }
        wake(relayed.groups)
        return relayed.count
    }

    /// The relay's batch on PostgreSQL as one statement: marks the next outbox events relayed and inserts their
    /// deliveries, in outbox order (the deliveries' `seq` keeps each aggregate's order), one per subscribed group
    /// (a group subscribed to the type and to `*` gets one). Returns the events taken and the deliveries per group.
    private func relayInOneStatement(
        _ tx: Transaction, batchSize: Int, now: Int64
    ) async throws -> (count: Int, groups: [String: Int?]) {
        let rows = try await tx.sql.raw(
            """
            WITH batch AS (
                UPDATE event_outbox SET relayed_at = \(bind: now)
                WHERE seq IN (SELECT seq FROM event_outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT \(bind: batchSize))
                RETURNING seq, id, type, aggregatetype, aggregateid, tenant_id
            ), handed AS (
                INSERT INTO event_deliveries (consumer_group, event_id, event_type, aggregate_key, tenant_id,
                                              available_at)
                SELECT DISTINCT ON (b.seq, s.consumer_group) s.consumer_group, b.id, b.type,
                       b.aggregatetype || ':' || b.aggregateid, b.tenant_id, \(bind: now)
                FROM batch b JOIN event_subscriptions s ON s.event_type = b.type OR s.event_type = '*'
                ORDER BY b.seq, s.consumer_group
                ON CONFLICT (consumer_group, event_id) DO NOTHING
                RETURNING consumer_group
            )
            SELECT NULL AS consumer_group, (SELECT COUNT(*) FROM batch) AS n
            UNION ALL
            SELECT consumer_group, COUNT(*) AS n FROM handed GROUP BY consumer_group
            """
        ).all()
        var count = 0
        var groups: [String: Int?] = [:]
        for row in rows {
            let n = try row.decode(column: "n", as: Int.self)
            if let group = try row.decode(column: "consumer_group", as: String?.self) {
                groups[group] = n
            } else {
                count = n
            }
        }
        if !groups.isEmpty {
            // Wakes the workers of other processes (this process's are told directly).
            try await tx.notifyAfterCommit(channel: Outbox.notificationChannel, payload: "deliveries:\(instance)")
        }
        return (count, groups)
    }
}
