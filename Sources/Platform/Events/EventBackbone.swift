import Foundation
import Kernel
import Logging
import Prometheus
import SQLKit
import ServiceLifecycle
import Synchronization

/// How the in-database event transport behaves.
package struct EventBackboneSettings: Sendable {
    /// Events handed out per relay transaction, and deliveries claimed per consumer worker at once.
    package var batchSize = 200
    /// Concurrent workers per consumer group in this process.
    package var workersPerGroup = 4
    /// How long a claimed delivery stays with its worker; a worker that died (or hangs) loses it after this.
    package var lease: Duration = .seconds(30)
    /// Tries before an event goes to the dead letters.
    package var maxAttempts = 8
    /// The wait before the second try; each further wait is four times longer (0.5 s, 2 s, 8 s, 32 s, ...).
    package var firstRetryDelay: Duration = .milliseconds(500)
    package var maxRetryDelay: Duration = .seconds(3_600)
    /// How often idle relays and workers look for work written by other processes.
    package var pollInterval: Duration = .milliseconds(100)
    /// How long dead letters and processed-event ids are kept.
    package var retention: Duration = .seconds(7 * 86_400)
    /// PostgreSQL `LISTEN` for wake-ups (false behind a transaction-pooling PgBouncer, which cannot listen:
    /// relays and workers then only poll).
    package var notifications = true

    package init() {}

    /// The defaults with the configuration's `event_max_attempts` and `event_workers`.
    package init(_ configuration: InopsioConfiguration) {
        maxAttempts = configuration.eventMaxAttempts
        workersPerGroup = configuration.eventWorkers
        notifications = configuration.eventNotifications
    }

    /// The wait after failed try number `attempt` (1-based).
    package func retryDelay(afterAttempt attempt: Int) -> Duration {
        var delay = firstRetryDelay
        for _ in 1..<max(1, attempt) {
            delay *= 4
            if delay >= maxRetryDelay { return maxRetryDelay }
        }
        return min(delay, maxRetryDelay)
    }
}

/// An event a consumer group gave up on after its tries, kept for inspection and replay.
package struct DeadLetter: Sendable, Equatable {
    package let group: String
    package let eventID: String
    package let eventType: String
    package let aggregateKey: String
    package let tenant: TenantID
    package let attempts: Int
    package let lastError: String
    package let deadAt: Date
}

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
    let logger: Logger
    let clock: any WallClock
    /// Rung by the relay when it handed out events, so this process's idle workers start at once.
    let handedOut = EventSignal()
    /// Counts of how deliveries were applied in this process (for tests and, later, metrics).
    package struct Statistics: Sendable, Equatable {
        package var appliedTogether = 0
        package var appliedAlone = 0
        /// Batches rolled back because one of their events failed, then applied one by one.
        package var batchFallbacks = 0
    }

    private let counters = Mutex(Statistics())
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
    private let outcomes: (applied: Counter, failed: Counter, dead: Counter)?

    /// `metrics`: where to export `events_outbox_backlog`, `events_deliveries_open`, `events_dead_letters` and
    /// the `events_applied_total`, `events_failed_total`, `events_dead_lettered_total` counters; `readiness`: where
    /// `/ready` shows the backlog.
    package init(
        database: any Database, consumers: [any EventConsumer], settings: EventBackboneSettings = .init(),
        logger: Logger, clock: any WallClock = SystemWallClock(), metrics: PrometheusCollectorRegistry? = nil,
        readiness: ReadinessDetails? = nil
    ) {
        self.database = database
        self.settings = settings
        self.consumers = Dictionary(consumers.map { ($0.group, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
        self.clock = clock
        gauges = metrics.map { registry in
            (
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_outbox_backlog", helpText: "Committed events not yet handed out")),
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_deliveries_open", helpText: "Event deliveries pending or claimed")),
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "events_dead_letters", helpText: "Event deliveries given up (kept 7 days)"))
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

    private var now: Int64 { clock.now().epochMilliseconds }

    // MARK: Subscriptions

    /// Records which event types this process's consumer groups want (from then on the relay hands them out).
    package func registerSubscriptions() async throws {
        let pairs = consumers.values.flatMap { consumer in consumer.eventTypes.map { (consumer.group, $0) } }
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
        let batchSize = settings.batchSize
        let now = self.now
        // Looked at without a write transaction first: an idle relay must not take SQLite's write lock every poll.
        if lookFirst {
            let waiting = try await database.readOutsideTransaction { tx in
                try await tx.sql.raw("SELECT 1 AS waiting FROM event_outbox WHERE relayed_at IS NULL LIMIT 1").first()
            }
            guard waiting != nil else { return 0 }
        }
        let relayed = try await database.system { tx -> Int in
            if tx.dialect == .postgres {
                // One relay at a time across processes: two interleaving batches could hand out a later event of
                // an aggregate before an earlier one.
                let locked = try await tx.sql.raw("SELECT pg_try_advisory_xact_lock(726100003) AS locked").first()
                guard try locked?.decode(column: "locked", as: Bool.self) == true else { return 0 }
            }
            let rows = try await tx.sql.raw(
                """
                SELECT seq, id, aggregatetype, aggregateid, type, tenant_id FROM event_outbox
                WHERE relayed_at IS NULL ORDER BY seq LIMIT \(bind: batchSize)
                """
            ).all()
            guard !rows.isEmpty else { return 0 }
            var subscribers: [String: [String]] = [:]
            for row in try await tx.sql.raw("SELECT consumer_group, event_type FROM event_subscriptions").all() {
                subscribers[try row.decode(column: "event_type", as: String.self), default: []].append(
                    try row.decode(column: "consumer_group", as: String.self))
            }
            var deliveries: [SQLQueryString] = []
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
            if tx.dialect == .postgres && !deliveries.isEmpty {
                // Wakes the workers of other processes (this process's are told directly).
                try await tx.sql.raw("SELECT pg_notify(\(bind: Outbox.notificationChannel), 'deliveries')").run()
            }
            return rows.count
        }
        if relayed > 0 { handedOut.signal() }
        return relayed
    }

    // MARK: Consumers

    private struct Claimed {
        let seq: Int64
        let attempts: Int
        let tenant: TenantID
        let eventID: String
        let payload: String
    }

    /// Claims up to a batch of `group`'s ready deliveries for `worker` and applies them, each in its own
    /// transaction. Returns how many it claimed.
    @discardableResult
    package func consumeBatch(group: String, worker: String) async throws -> Int {
        guard let consumer = consumers[group] else { return 0 }
        let claimed = try await claim(group: group, worker: worker)
        // First tries go together in one transaction (a batch holds at most one event per aggregate, so their
        // order does not matter); if any of them fails, the batch rolls back and each is tried on its own.
        // Retries always go alone: an event that keeps failing, or that crashed its process, must not take a
        // batch of others down with it each time.
        let fresh = claimed.filter { $0.attempts == 1 }
        var alone = claimed.filter { $0.attempts != 1 }
        if fresh.count > 1 {
            do {
                try await applyTogether(fresh, consumer: consumer, worker: worker)
                counters.withLock { $0.appliedTogether += fresh.count }
                outcomes?.applied.increment(by: Int64(fresh.count))
            } catch {
                counters.withLock { $0.batchFallbacks += 1 }
                alone = claimed
            }
        } else {
            alone = claimed
        }
        for (index, delivery) in alone.enumerated() {
            if Task.isShuttingDownGracefully || Task.isCancelled {
                // Stopping: what is left goes back for another worker (or this process after its restart).
                try? await release(alone[index...].map(\.seq), worker: worker)
                break
            }
            if await apply(delivery, consumer: consumer, worker: worker) {
                outcomes?.applied.increment()
            }
            counters.withLock { $0.appliedAlone += 1 }
        }
        return claimed.count
    }

    /// Applies `deliveries` in one transaction, each under its event's tenant (on PostgreSQL the row-level
    /// security setting moves from event to event), with one statement each for the processed ids and the
    /// deliveries' end.
    private func applyTogether(_ deliveries: [Claimed], consumer: any EventConsumer, worker: String) async throws {
        let group = consumer.group
        let events = try deliveries.map { try JSONDecoder().decode(EventEnvelope.self, from: Data($0.payload.utf8)) }
        let now = self.now
        try await database.system { tx in
            // Still ours? A lease that ran out may have been taken over; the batch then goes one by one.
            let lock: SQLQueryString = tx.dialect == .postgres ? " FOR UPDATE" : ""
            let held = try await tx.sql.raw(
                """
                SELECT seq FROM event_deliveries
                WHERE seq IN (\(binds: deliveries.map(\.seq))) AND leased_by = \(bind: worker)\(lock)
                """
            ).all().count
            guard held == deliveries.count else { throw LeaseLost() }
            let ids = deliveries.map(\.eventID)
            let seen = Set(
                try await tx.sql.raw(
                    """
                    SELECT event_id FROM event_processed
                    WHERE consumer_group = \(bind: group) AND event_id IN (\(binds: ids))
                    """
                ).all().map { try $0.decode(column: "event_id", as: String.self) })
            var applied: [String] = []
            var current: TenantID?
            // Grouped by tenant, the setting moves once per tenant rather than once per event.
            let ordered = zip(deliveries, events).sorted { $0.0.tenant.description < $1.0.tenant.description }
            for (delivery, event) in ordered where !seen.contains(delivery.eventID) {
                if tx.dialect == .postgres && current != delivery.tenant {
                    try await tx.sql.raw(
                        "SELECT set_config('app.tenant_id', \(bind: delivery.tenant.description), true)"
                    ).run()
                    current = delivery.tenant
                }
                try await consumer.handle(
                    event, in: Transaction(sql: tx.sql, dialect: tx.dialect, tenant: delivery.tenant))
                applied.append(delivery.eventID)
            }
            if tx.dialect == .postgres {
                try await tx.sql.raw("SELECT set_config('app.tenant_id', '', true)").run()
            }
            if !applied.isEmpty {
                var insert: SQLQueryString =
                    "INSERT INTO event_processed (consumer_group, event_id, processed_at) VALUES "
                for (index, id) in applied.enumerated() {
                    if index > 0 { insert.appendLiteral(", ") }
                    insert.appendInterpolation("(\(bind: group), \(bind: id), \(bind: now))" as SQLQueryString)
                }
                try await tx.sql.raw(insert).run()
            }
            try await tx.sql.raw(
                """
                DELETE FROM event_deliveries WHERE seq IN (\(binds: deliveries.map(\.seq)))
                  AND leased_by = \(bind: worker)
                """
            ).run()
        }
    }

    private func claim(group: String, worker: String) async throws -> [Claimed] {
        let now = self.now
        let leaseEnd = now + settings.lease.milliseconds
        let limit = settings.batchSize
        let maxAttempts = settings.maxAttempts
        // As for the relay: idle workers look before they take the write lock (with the claim's own conditions,
        // so a delivery waiting behind its aggregate's earlier one does not make them take it every poll).
        let anything = try await database.readOutsideTransaction { tx in
            try await tx.sql.raw(
                """
                SELECT 1 AS ready FROM event_deliveries d
                WHERE d.consumer_group = \(bind: group)
                  AND ((d.status = 'pending' AND d.available_at <= \(bind: now))
                       OR (d.status = 'leased' AND d.lease_until < \(bind: now)))
                  AND NOT EXISTS (
                      SELECT 1 FROM event_deliveries e
                      WHERE e.consumer_group = d.consumer_group AND e.aggregate_key = d.aggregate_key
                        AND e.seq < d.seq AND e.status <> 'dead')
                LIMIT 1
                """
            ).first()
        }
        guard anything != nil else { return [] }
        return try await database.system { tx -> [Claimed] in
            let lock: SQLQueryString = tx.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            // A delivery whose lease ran out after its last try (its worker crashed or hung on it each time) is
            // given up here: otherwise it would be claimed again forever, holding back its aggregate.
            try await tx.sql.raw(
                """
                UPDATE event_deliveries SET status = 'dead', dead_at = \(bind: now), lease_until = NULL,
                    leased_by = NULL,
                    last_error = 'its worker stopped or hung on each of its tries (the lease ran out)'
                WHERE consumer_group = \(bind: group) AND status = 'leased' AND lease_until < \(bind: now)
                  AND attempts >= \(bind: maxAttempts)
                """
            ).run()
            let seqs = try await tx.sql.raw(
                """
                UPDATE event_deliveries SET status = 'leased', lease_until = \(bind: leaseEnd),
                    leased_by = \(bind: worker), attempts = attempts + 1
                WHERE seq IN (
                    SELECT d.seq FROM event_deliveries d
                    WHERE d.consumer_group = \(bind: group)
                      AND ((d.status = 'pending' AND d.available_at <= \(bind: now))
                           OR (d.status = 'leased' AND d.lease_until < \(bind: now)))
                      AND NOT EXISTS (
                          SELECT 1 FROM event_deliveries e
                          WHERE e.consumer_group = d.consumer_group AND e.aggregate_key = d.aggregate_key
                            AND e.seq < d.seq AND e.status <> 'dead')
                    ORDER BY d.seq LIMIT \(bind: limit)\(lock))
                RETURNING seq
                """
            ).all().map { try $0.decode(column: "seq", as: Int64.self) }
            guard !seqs.isEmpty else { return [] }
            let payload: SQLQueryString = tx.dialect == .postgres ? "o.payload::text" : "o.payload"
            return try await tx.sql.raw(
                """
                SELECT d.seq, d.attempts, d.tenant_id, d.event_id, \(payload) AS payload
                FROM event_deliveries d JOIN event_outbox o ON o.id = d.event_id
                WHERE d.seq IN (\(binds: seqs)) ORDER BY d.seq
                """
            ).all().map { row in
                Claimed(
                    seq: try row.decode(column: "seq", as: Int64.self),
                    attempts: try row.decode(column: "attempts", as: Int.self),
                    tenant: TenantID(try row.decodeUUID(column: "tenant_id")),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    payload: try row.decode(column: "payload", as: String.self))
            }
        }
    }

    /// The consumer's transaction: the effects, the processed-event id and the delivery's end commit together.
    @discardableResult
    private func apply(_ delivery: Claimed, consumer: any EventConsumer, worker: String) async -> Bool {
        let group = consumer.group
        do {
            let event = try JSONDecoder().decode(EventEnvelope.self, from: Data(delivery.payload.utf8))
            let now = self.now
            let held = try await database.write(tenant: delivery.tenant) { tx -> Bool in
                // Taken over after this worker's lease ran out: the other worker applies it.
                let lock: SQLQueryString = tx.dialect == .postgres ? " FOR UPDATE" : ""
                guard
                    try await tx.sql.raw(
                        """
                        SELECT seq FROM event_deliveries
                        WHERE seq = \(bind: delivery.seq) AND leased_by = \(bind: worker)\(lock)
                        """
                    ).first() != nil
                else { return false }
                let seen = try await tx.sql.raw(
                    """
                    SELECT 1 AS seen FROM event_processed
                    WHERE consumer_group = \(bind: group) AND event_id = \(bind: delivery.eventID)
                    """
                ).first()
                if seen == nil {
                    try await consumer.handle(event, in: tx)
                    // A second worker applying the same event (its lease taken over) fails here and rolls back.
                    try await tx.sql.raw(
                        """
                        INSERT INTO event_processed (consumer_group, event_id, processed_at)
                        VALUES (\(bind: group), \(bind: delivery.eventID), \(bind: now))
                        """
                    ).run()
                }
                try await tx.sql.raw(
                    "DELETE FROM event_deliveries WHERE seq = \(bind: delivery.seq) AND leased_by = \(bind: worker)"
                ).run()
                return true
            }
            return held
        } catch {
            if error is CancellationError || Task.isCancelled {
                // Stopped, not failed: the try does not count.
                try? await Task { try await release([delivery.seq], worker: worker) }.value
                return false
            }
            await failed(delivery, group: group, worker: worker, error: error)
            return false
        }
    }

    private struct LeaseLost: Error {}

    private func failed(_ delivery: Claimed, group: String, worker: String, error: any Error) async {
        let now = self.now
        let dead = delivery.attempts >= settings.maxAttempts
        let retryAt = now + settings.retryDelay(afterAttempt: delivery.attempts).milliseconds
        let message = String(String(describing: error).prefix(2_000))
        do {
            try await database.system { tx in
                try await tx.sql.raw(
                    """
                    UPDATE event_deliveries SET status = \(bind: dead ? "dead" : "pending"),
                        available_at = \(bind: retryAt), dead_at = \(bind: dead ? now : nil as Int64?),
                        lease_until = NULL, leased_by = NULL, last_error = \(bind: message)
                    WHERE seq = \(bind: delivery.seq) AND leased_by = \(bind: worker)
                    """
                ).run()
            }
        } catch {
            // The lease runs out and the delivery is claimed again: nothing is lost, the try just counts.
            logger.error(
                "event delivery failure not recorded",
                metadata: ["event.group": "\(group)", "error.message": "\(String(reflecting: error))"])
        }
        outcomes?.failed.increment()
        if dead { outcomes?.dead.increment() }
        let level: Logger.Level = dead ? .error : .warning
        logger.log(
            level: level, dead ? "event moved to dead letters" : "event handling failed; will retry",
            metadata: [
                "event.id": "\(delivery.eventID)", "event.group": "\(group)", "event.attempt": "\(delivery.attempts)",
                "error.message": "\(message)",
            ])
    }

    private func release(_ seqs: [Int64], worker: String) async throws {
        guard !seqs.isEmpty else { return }
        try await database.system { tx in
            try await tx.sql.raw(
                """
                UPDATE event_deliveries SET status = 'pending', attempts = attempts - 1, lease_until = NULL,
                    leased_by = NULL
                WHERE seq IN (\(binds: seqs)) AND leased_by = \(bind: worker)
                """
            ).run()
        }
    }

    // MARK: Dead letters and housekeeping

    /// Dead letters, newest first.
    package func deadLetters(limit: Int = 100) async throws -> [DeadLetter] {
        try await database.systemRead { tx in
            try await tx.sql.raw(
                """
                SELECT consumer_group, event_id, event_type, aggregate_key, tenant_id, attempts, last_error, dead_at
                FROM event_deliveries WHERE status = 'dead' ORDER BY dead_at DESC, seq DESC LIMIT \(bind: limit)
                """
            ).all().map { row in
                DeadLetter(
                    group: try row.decode(column: "consumer_group", as: String.self),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    eventType: try row.decode(column: "event_type", as: String.self),
                    aggregateKey: try row.decode(column: "aggregate_key", as: String.self),
                    tenant: TenantID(try row.decodeUUID(column: "tenant_id")),
                    attempts: try row.decode(column: "attempts", as: Int.self),
                    lastError: try row.decode(column: "last_error", as: String?.self) ?? "",
                    deadAt: Date(epochMilliseconds: try row.decode(column: "dead_at", as: Int64.self)))
            }
        }
    }

    /// Gives a dead event (to `group`, or to every group it died in) a fresh set of tries. Returns the number of
    /// deliveries revived.
    @discardableResult
    package func replay(eventID: String, group: String? = nil) async throws -> Int {
        let now = self.now
        let revived = try await database.system { tx in
            let groupFilter: SQLQueryString = group.map { " AND consumer_group = \(bind: $0)" } ?? ""
            return try await tx.sql.raw(
                """
                UPDATE event_deliveries SET status = 'pending', attempts = 0, available_at = \(bind: now),
                    dead_at = NULL, lease_until = NULL, leased_by = NULL
                WHERE event_id = \(bind: eventID) AND status = 'dead'\(groupFilter)
                RETURNING seq
                """
            ).all().count
        }
        if revived > 0 { handedOut.signal() }
        return revived
    }

    /// Deletes what is no longer needed: outbox rows every group is done with, dead letters and processed ids
    /// past the retention.
    package func cleanUp() async throws {
        let cutoff = now - settings.retention.milliseconds
        try await database.system { tx in
            try await tx.sql.raw(
                "DELETE FROM event_deliveries WHERE status = 'dead' AND dead_at < \(bind: cutoff)"
            ).run()
            try await tx.sql.raw(
                """
                DELETE FROM event_outbox WHERE relayed_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = event_outbox.id)
                """
            ).run()
            try await tx.sql.raw("DELETE FROM event_processed WHERE processed_at < \(bind: cutoff)").run()
        }
    }

    // MARK: Services

    /// The relay and this process's consumer workers, to run in the server's service group.
    package var services: [any Service] {
        [EventRelayService(backbone: self)]
            + consumers.keys.sorted().map { EventConsumerService(backbone: self, group: $0) }
            + (database.dialect == .postgres && settings.notifications
                ? [EventNotificationService(backbone: self)] : [])
    }

    /// Rung when events were appended (a PostgreSQL notification, or `Outbox` itself on SQLite).
    var outboxWake: EventSignal { Outbox.appended }
}

/// Runs the relay: as fast as it finds events, otherwise every poll interval; cleans up once a minute.
struct EventRelayService: Service {
    let backbone: EventBackbone

    func run() async throws {
        var lastCleanUp = ContinuousClock.now
        var lastCount = ContinuousClock.now - .seconds(60)
        var told = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var relayed = 0
            do {
                relayed = try await backbone.relayBatch(lookFirst: !told)
                if ContinuousClock.now - lastCleanUp > .seconds(60) {
                    lastCleanUp = .now
                    try await backbone.cleanUp()
                }
                if ContinuousClock.now - lastCount > .seconds(10) {
                    lastCount = .now
                    try await backbone.countBacklog()
                }
            } catch {
                backbone.logger.warning(
                    "event relay failed; retrying", metadata: ["error.message": "\(String(reflecting: error))"])
            }
            told = false
            if relayed < backbone.settings.batchSize {
                told = await backbone.outboxWake.wait(timeout: backbone.settings.pollInterval)
            }
        }
    }
}

/// Listens for the backbone's PostgreSQL notifications and wakes this process's relay and workers; reconnects
/// after a failure (polling covers the gap).
struct EventNotificationService: Service {
    let backbone: EventBackbone

    func run() async throws {
        let (outbox, deliveries) = (backbone.outboxWake, backbone.handedOut)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown {
                    try await backbone.database.listen(channel: Outbox.notificationChannel) { payload in
                        if payload == "deliveries" { deliveries.signal() } else { outbox.signal() }
                    }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                backbone.logger.warning(
                    "event notifications lost; polling until they are back",
                    metadata: ["error.message": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Runs one consumer group's workers in this process.
struct EventConsumerService: Service {
    let backbone: EventBackbone
    let group: String

    func run() async throws {
        let instance = UUID().uuidString.prefix(8).lowercased()
        await withTaskGroup(of: Void.self) { workers in
            for index in 0..<max(1, backbone.settings.workersPerGroup) {
                let worker = "\(group)/\(instance)/\(index)"
                workers.addTask {
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        var claimed = 0
                        do {
                            claimed = try await backbone.consumeBatch(group: group, worker: worker)
                        } catch is CancellationError {
                            return
                        } catch {
                            backbone.logger.warning(
                                "event claim failed; retrying",
                                metadata: ["event.group": "\(group)", "error.message": "\(String(reflecting: error))"])
                        }
                        if claimed == 0 { await backbone.handedOut.wait(timeout: backbone.settings.pollInterval) }
                    }
                }
            }
        }
    }
}
