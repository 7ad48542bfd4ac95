import Foundation
import Kernel
import SQLKit
import ServiceLifecycle

extension EventBackbone {
    // MARK: Dead letters and housekeeping

    /// Dead letters, newest first.
    package func deadLetters(tenant: TenantID? = nil, limit: Int = 100) async throws -> [DeadLetter] {
        try await database.systemRead { tx in
            let owner: SQLQueryString = tenant.map { " AND tenant_id = \(tx.bind($0))" } ?? ""
            return try await tx.sql.raw(
                """
                SELECT consumer_group, event_id, event_type, aggregate_key, tenant_id, attempts, last_error, dead_at
                FROM event_deliveries WHERE status = 'dead'\(owner) ORDER BY dead_at DESC, seq DESC
                LIMIT \(bind: limit)
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
    package func replay(eventID: String, group: String? = nil, tenant: TenantID? = nil) async throws -> Int {
        let now = self.now
        let revived = try await database.system { tx in
            var groupFilter: SQLQueryString = group.map { " AND consumer_group = \(bind: $0)" } ?? ""
            if let tenant { groupFilter.appendInterpolation(" AND tenant_id = \(tx.bind(tenant))" as SQLQueryString) }
            return try await tx.sql.raw(
                """
                UPDATE event_deliveries SET status = 'pending', attempts = 0, available_at = \(bind: now),
                    dead_at = NULL, lease_until = NULL, leased_by = NULL
                WHERE event_id = \(bind: eventID) AND status = 'dead'\(groupFilter)
                RETURNING seq
                """
            ).all().count
        }
        if revived > 0 { wakeAll() }
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
            if tx.dialect == .postgres {
                // Waits for a Redis consumer putting an outbox row back for a delivery (`spill`), and holds it off.
                try await tx.sql.raw("SELECT pg_advisory_xact_lock(726100004)").run()
            }
            try await tx.sql.raw(
                """
                DELETE FROM event_outbox WHERE relayed_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = event_outbox.id)
                """
            ).run()
            try await tx.sql.raw("DELETE FROM event_processed WHERE processed_at < \(bind: cutoff)").run()
        }
        if let redis { try await trimStreams(redis) }
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
