import Foundation
import Kernel
import Logging
import SQLKit
import ServiceLifecycle

/// Consumer groups' side of the backbone: claiming deliveries, applying them, retries and releases.
extension EventBackbone {
    private struct Claimed {
        let seq: Int64
        let attempts: Int
        let tenant: TenantID
        let eventID: String
        let payload: String
    }

    /// Claims up to a batch of `group`'s ready deliveries for `worker` and applies them. Returns how many it
    /// claimed. `lookFirst`: check with a read before taking the write lock (polling); false when told there are
    /// deliveries.
    @discardableResult
    package func consumeBatch(group: String, worker: String, lookFirst: Bool = true) async throws -> Int {
        guard let consumer = consumers[group] else { return 0 }
        let claimed = try await claim(group: group, worker: worker, lookFirst: lookFirst)
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
                if Task.isShuttingDownGracefully || Task.isCancelled {
                    // Stopped mid-batch (rolled back): the batch goes back at once rather than when its lease ends.
                    let seqs = claimed.map(\.seq)
                    try? await Task { try await release(seqs, worker: worker) }.value
                    return claimed.count
                }
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
    /// security setting moves from event to event), with one statement for the processed ids and the deliveries'
    /// end.
    private func applyTogether(_ deliveries: [Claimed], consumer: any EventConsumer, worker: String) async throws {
        let group = consumer.group
        let events = try deliveries.map { try EventEnvelope(jsonText: $0.payload) }
        let now = self.now
        try await database.system { tx in
            // Still ours (a lease that ran out may have been taken over; the batch then goes one by one), and which
            // the group has applied before (a repeat after a crash between the effects and the delivery's end).
            let lock: SQLQueryString = tx.dialect == .postgres ? " FOR UPDATE OF d" : ""
            let held = try await tx.sql.raw(
                """
                SELECT d.event_id, EXISTS (
                    SELECT 1 FROM event_processed p
                    WHERE p.consumer_group = \(bind: group) AND p.event_id = d.event_id) AS seen
                FROM event_deliveries d
                WHERE d.seq IN (\(binds: deliveries.map(\.seq))) AND d.leased_by = \(bind: worker)\(lock)
                """
            ).all()
            guard held.count == deliveries.count else { throw LeaseLost() }
            let seen = Set(
                try held.filter { try $0.decode(column: "seen", as: Bool.self) }.map {
                    try $0.decode(column: "event_id", as: String.self)
                })
            let fresh = zip(deliveries, events).filter { !seen.contains($0.0.eventID) }.map { ($0.0.tenant, $0.1) }
            try await Self.handle(fresh, consumer: consumer, in: tx)
            let applied = fresh.map(\.1.id)
            try await Self.finish(
                deliveries.map(\.seq), worker: worker, applied: applied, group: group, now: now, in: tx)
        }
    }

    /// Ends `worker`'s deliveries `seqs` and records `applied` as processed by `group`: on PostgreSQL in one
    /// statement.
    private static func finish(
        _ seqs: [Int64], worker: String, applied: [String], group: String, now: Int64, in tx: Transaction
    ) async throws {
        let delete: SQLQueryString = """
            DELETE FROM event_deliveries WHERE seq IN (\(binds: seqs)) AND leased_by = \(bind: worker)
            """
        guard !applied.isEmpty else {
            try await tx.sql.raw(delete).run()
            return
        }
        var values: SQLQueryString = ""
        for (index, id) in applied.enumerated() {
            if index > 0 { values.appendLiteral(", ") }
            values.appendInterpolation("(\(bind: group), \(bind: id), \(bind: now))" as SQLQueryString)
        }
        switch tx.dialect {
        case .postgres:
            try await tx.sql.raw(
                """
                WITH ended AS (\(delete) RETURNING seq)
                INSERT INTO event_processed (consumer_group, event_id, processed_at) VALUES \(values)
                """
            ).run()
        case .sqlite:
            try await tx.sql.raw(
                "INSERT INTO event_processed (consumer_group, event_id, processed_at) VALUES \(values)"
            )
            .run()
            try await tx.sql.raw(delete).run()
        }
    }

    private func claim(group: String, worker: String, lookFirst: Bool) async throws -> [Claimed] {
        let now = self.now
        let leaseEnd = now + settings.lease.milliseconds
        let limit = settings.batchSize
        let maxAttempts = settings.maxAttempts
        // Claimable: pending and due, or its lease ran out with tries left; and no earlier delivery of its aggregate
        // to the group is still pending or claimed (the per-aggregate order).
        let ready: SQLQueryString = """
            d.consumer_group = \(bind: group)
              AND ((d.status = 'pending' AND d.available_at <= \(bind: now))
                   OR (d.status = 'leased' AND d.lease_until < \(bind: now) AND d.attempts < \(bind: maxAttempts)))
              AND NOT EXISTS (
                  SELECT 1 FROM event_deliveries e
                  WHERE e.consumer_group = d.consumer_group AND e.aggregate_key = d.aggregate_key
                    AND e.seq < d.seq AND e.status <> 'dead')
            """
        try await giveUpExhaustedLeases(group: group, now: now)
        // As for the relay: idle workers look before they take the write lock (with the claim's own condition, so
        // a delivery waiting behind its aggregate's earlier one does not make them take it every poll).
        if lookFirst {
            let anything = try await database.readOutsideTransaction { tx in
                try await tx.sql.raw("SELECT 1 AS ready FROM event_deliveries d WHERE \(ready) LIMIT 1").first()
            }
            guard anything != nil else { return [] }
        }
        let lease: SQLQueryString = """
            UPDATE event_deliveries SET status = 'leased', lease_until = \(bind: leaseEnd),
                leased_by = \(bind: worker), attempts = attempts + 1
            WHERE seq IN (
                SELECT d.seq FROM event_deliveries d WHERE \(ready)
                ORDER BY d.seq LIMIT \(bind: limit)\(unsafeRaw: database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""))
            """
        @Sendable func decode(_ row: any SQLRow) throws -> Claimed {
            Claimed(
                seq: try row.decode(column: "seq", as: Int64.self),
                attempts: try row.decode(column: "attempts", as: Int.self),
                tenant: TenantID(try row.decodeUUID(column: "tenant_id")),
                eventID: try row.decode(column: "event_id", as: String.self),
                payload: try row.decode(column: "payload", as: String.self))
        }
        switch database.dialect {
        case .postgres:
            // One statement, its own transaction: the lease and the events it covers.
            do {
                return try await database.writeOutsideTransaction { tx in
                    try await tx.sql.raw(
                        """
                        WITH claimed AS (\(lease) RETURNING seq, attempts, tenant_id, event_id)
                        SELECT c.seq, c.attempts, c.tenant_id, c.event_id, o.payload::text AS payload
                        FROM claimed c JOIN event_outbox o ON o.id = c.event_id ORDER BY c.seq
                        """
                    ).all().map(decode)
                }
            } catch {
                // Stopped or failed after the statement may have committed: whatever it leased goes back now
                // rather than when the lease ends (in a task of its own, a cancelled caller's would not run).
                let database = self.database
                try? await Task {
                    try await database.writeOutsideTransaction { tx in
                        try await tx.sql.raw(
                            """
                            UPDATE event_deliveries SET status = 'pending', attempts = attempts - 1, lease_until = NULL,
                                leased_by = NULL
                            WHERE leased_by = \(bind: worker) AND lease_until = \(bind: leaseEnd)
                            """
                        ).run()
                    }
                }.value
                throw error
            }
        case .sqlite:
            return try await database.system { tx -> [Claimed] in
                let seqs = try await tx.sql.raw("\(lease) RETURNING seq").all().map {
                    try $0.decode(column: "seq", as: Int64.self)
                }
                guard !seqs.isEmpty else { return [] }
                return try await tx.sql.raw(
                    """
                    SELECT d.seq, d.attempts, d.tenant_id, d.event_id, o.payload AS payload
                    FROM event_deliveries d JOIN event_outbox o ON o.id = d.event_id
                    WHERE d.seq IN (\(binds: seqs)) ORDER BY d.seq
                    """
                ).all().map(decode)
            }
        }
    }

    /// Gives up the group's deliveries whose lease ran out after their last try (their worker crashed or hung on
    /// them each time), which the claim no longer takes: otherwise they would hold back their aggregate for ever.
    /// At most once a second per group in this process (a lease lasts far longer).
    private func giveUpExhaustedLeases(group: String, now: Int64) async throws {
        let due = exhaustedLeaseSweeps.withLock { sweeps -> Bool in
            let current = ContinuousClock.now
            if let last = sweeps[group], current - last < .seconds(1) { return false }
            sweeps[group] = current
            return true
        }
        guard due else { return }
        let maxAttempts = settings.maxAttempts
        let exhausted: SQLQueryString = """
            consumer_group = \(bind: group) AND status = 'leased' AND lease_until < \(bind: now)
              AND attempts >= \(bind: maxAttempts)
            """
        // Looked for first, without a write transaction: there rarely is any.
        let any = try await database.readOutsideTransaction { tx in
            try await tx.sql.raw("SELECT 1 AS found FROM event_deliveries WHERE \(exhausted) LIMIT 1").first()
        }
        guard any != nil else { return }
        // A hung last try still holds its row (the apply's `FOR UPDATE`): skipped, not waited for.
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let dead = try await database.writeOutsideTransaction { tx -> Int in
            try await tx.sql.raw(
                """
                UPDATE event_deliveries SET status = 'dead', dead_at = \(bind: now), lease_until = NULL,
                    leased_by = NULL,
                    last_error = 'its worker stopped or hung on each of its tries (the lease ran out)'
                WHERE seq IN (SELECT seq FROM event_deliveries WHERE \(exhausted)\(unsafeRaw: skipLocked))
                RETURNING seq
                """
            ).all().count
        }
        if dead > 0 { outcomes?.dead.increment(by: Int64(dead)) }
    }

    /// The consumer's transaction: the effects, the processed-event id and the delivery's end commit together.
    @discardableResult
    private func apply(_ delivery: Claimed, consumer: any EventConsumer, worker: String) async -> Bool {
        let group = consumer.group
        do {
            let event = try EventEnvelope(jsonText: delivery.payload)
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

    /// Hands `events` to the consumer in `tx`, tenant by tenant (each tenant's events in their order): the tenant
    /// setting moves once per tenant, and the consumer may write a tenant's events together. The setting ends
    /// with the transaction (the backbone's own tables have no row-level security).
    static func handle(
        _ events: [(tenant: TenantID, event: EventEnvelope)], consumer: any EventConsumer, in tx: Transaction
    ) async throws {
        var order: [TenantID] = []
        var byTenant: [TenantID: [EventEnvelope]] = [:]
        for (tenant, event) in events {
            if byTenant[tenant] == nil { order.append(tenant) }
            byTenant[tenant, default: []].append(event)
        }
        for tenant in order {
            if tx.dialect == .postgres {
                try await tx.sql.raw("SELECT set_config('app.tenant_id', \(bind: tenant.description), true)").run()
            }
            try await consumer.handle(batch: byTenant[tenant] ?? [], in: tx.scoped(to: tenant))
        }
    }
}
