import Foundation
import Kernel
import Platform
import SQLKit

/// Reads and writes activities and their targets (`crm_activity_targets`: one row per target, for timelines).
struct ActivityStore: Sendable {
    /// What `list` returns and in which order.
    struct Query: Sendable {
        enum Sort: String, Sendable, CaseIterable {
            /// Newest first (the default).
            case createdDescending = "-created_at"
            /// Soonest due first; only activities with a due date.
            case due = "due_at"
            /// Latest due first; only activities with a due date.
            case dueDescending = "-due_at"
            /// Latest first by when it happened.
            case occurredDescending = "-occurred_at"
        }

        var kinds: [Activity.Kind] = []
        var ownerID: String?
        /// `true`: done tasks; `false`: open tasks (and every activity that is not a task... see `list`).
        var done: Bool?
        var dueBefore: Date?
        var dueAfter: Date?
        var target: Activity.Target?
        /// Leaves out activities about deals (for callers who may not read deals).
        var hideDeals = false
        var sort = Sort.createdDescending
        /// The position (time in milliseconds, id) after which the page starts.
        var after: (Int64, UUID)?

        var column: String {
            switch sort {
            case .createdDescending: "created_at"
            case .due, .dueDescending: "due_at"
            case .occurredDescending: "occurred_at"
            }
        }

        var ascending: Bool { sort == .due }

        /// `position` of a cursor: `<milliseconds>|<id>`.
        static func position(_ text: String) -> (Int64, UUID)? {
            let parts = text.split(separator: "|")
            guard parts.count == 2, let time = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
                return nil
            }
            return (time, id)
        }

        func position(of activity: Activity) -> String {
            let time: Date =
                switch sort {
                case .createdDescending: activity.createdAt
                case .due, .dueDescending: activity.dueAt ?? activity.createdAt
                case .occurredDescending: activity.occurredAt
                }
            return "\(time.epochMilliseconds)|\(activity.id.rawValue.lowercasedString)"
        }
    }

    func insert(_ activity: Activity, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_activities (tenant_id, id, version, created_at, updated_at, created_by, \(unsafeRaw: Self.columnNames))
            VALUES (\(tx.bind(tenant)), \(tx.bind(activity.id.rawValue)), \(bind: activity.version),
                    \(bind: activity.createdAt.epochMilliseconds), \(bind: activity.updatedAt.epochMilliseconds),
                    \(bind: activity.createdBy), \(try values(activity)))
            """
        ).run()
        try await writeTargets(activity, replacing: false, in: tx)
    }

    /// Writes `activity` over the stored version `expectedVersion`; false when another change came first.
    func update(_ activity: Activity, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        let updated = try await tx.sql.raw(
            """
            UPDATE crm_activities SET version = \(bind: activity.version),
                updated_at = \(bind: activity.updatedAt.epochMilliseconds),
                (\(unsafeRaw: Self.columnNames)) = (\(try values(activity)))
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(activity.id.rawValue))
              AND version = \(bind: expectedVersion)
            RETURNING id
            """
        ).first()
        guard updated != nil else { return false }
        try await writeTargets(activity, replacing: true, in: tx)
        return true
    }

    func find(_ id: UUID, in tx: Transaction) async throws -> Activity? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM crm_activities WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).first().map(Self.decode)
    }

    func delete(_ id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_activity_targets WHERE tenant_id = \(tx.bind(tenant)) AND activity_id = \(tx.bind(id))"
        ).run()
        try await tx.sql.raw(
            "DELETE FROM crm_activities WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).run()
    }

    /// Marks the reminder of `id` sent, if it is still due at `remindAt`, not sent and the activity not done.
    /// Returns the activity when this call marked it.
    func markReminded(_ id: UUID, remindAt: Date, now: Date, in tx: Transaction) async throws -> Activity? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE crm_activities SET reminded_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))
              AND remind_at = \(bind: remindAt.epochMilliseconds) AND reminded_at IS NULL AND completed_at IS NULL
            RETURNING *
            """
        ).first().map(Self.decode)
    }

    func list(_ query: Query, limit: Int, in tx: Transaction) async throws -> [Activity] {
        let tenant = try tx.requireTenant()
        var sql: SQLQueryString = "SELECT a.* FROM crm_activities a WHERE a.tenant_id = \(tx.bind(tenant))"
        if !query.kinds.isEmpty {
            sql.appendInterpolation(
                " AND a.kind IN (\(SQLList(query.kinds.map { SQLBind($0.rawValue) })))" as SQLQueryString)
        }
        if let owner = query.ownerID { sql.appendInterpolation(" AND a.owner_id = \(bind: owner)" as SQLQueryString) }
        if let done = query.done {
            sql.appendInterpolation(
                unsafeRaw: done ? " AND a.completed_at IS NOT NULL" : " AND a.kind = 'task' AND a.completed_at IS NULL")
        }
        if let before = query.dueBefore {
            sql.appendInterpolation(" AND a.due_at < \(bind: before.epochMilliseconds)" as SQLQueryString)
        }
        if let after = query.dueAfter {
            sql.appendInterpolation(" AND a.due_at >= \(bind: after.epochMilliseconds)" as SQLQueryString)
        }
        if let target = query.target {
            sql.appendInterpolation(
                """
                 AND EXISTS (SELECT 1 FROM crm_activity_targets t WHERE t.tenant_id = a.tenant_id
                   AND t.activity_id = a.id AND t.entity = \(bind: target.type.rawValue)
                   AND t.record_id = \(tx.bind(target.id)))
                """ as SQLQueryString)
        }
        if query.hideDeals { sql.appendInterpolation(unsafeRaw: Self.noDeal) }
        let column = query.column
        if column == "due_at" { sql.appendInterpolation(unsafeRaw: " AND a.due_at IS NOT NULL") }
        let order = query.ascending ? "ASC" : "DESC"
        if let (time, id) = query.after {
            let comparison = query.ascending ? ">" : "<"
            sql.appendInterpolation(
                """
                 AND (a.\(unsafeRaw: column) \(unsafeRaw: comparison) \(bind: time)
                   OR (a.\(unsafeRaw: column) = \(bind: time) AND a.id \(unsafeRaw: comparison) \(tx.bind(id))))
                """ as SQLQueryString)
        }
        sql.appendInterpolation(
            " ORDER BY a.\(unsafeRaw: column) \(unsafeRaw: order), a.id \(unsafeRaw: order) LIMIT \(bind: limit)"
                as SQLQueryString)
        return try await tx.sql.raw(sql).all().map(Self.decode)
    }

    /// The activities about any of `targets`, latest first by when they happened, `limit` after position `after`
    /// (time in milliseconds, id).
    func timeline(
        of targets: [Activity.Target], after: (Int64, UUID)?, hideDeals: Bool, limit: Int, in tx: Transaction
    ) async throws -> [Activity]
    {
        let tenant = try tx.requireTenant()
        guard !targets.isEmpty else { return [] }
        var sql: SQLQueryString = """
            SELECT a.* FROM crm_activities a WHERE a.tenant_id = \(tx.bind(tenant)) AND a.id IN (
              SELECT t.activity_id FROM crm_activity_targets t WHERE t.tenant_id = \(tx.bind(tenant)) AND (
            """
        for (index, target) in targets.enumerated() {
            if index > 0 { sql.appendInterpolation(unsafeRaw: " OR ") }
            sql.appendInterpolation(
                "(t.entity = \(bind: target.type.rawValue) AND t.record_id = \(tx.bind(target.id)))" as SQLQueryString)
        }
        sql.appendInterpolation(unsafeRaw: "))")
        if hideDeals { sql.appendInterpolation(unsafeRaw: Self.noDeal) }
        if let (time, id) = after {
            sql.appendInterpolation(
                " AND (a.occurred_at < \(bind: time) OR (a.occurred_at = \(bind: time) AND a.id < \(tx.bind(id))))"
                    as SQLQueryString)
        }
        sql.appendInterpolation(" ORDER BY a.occurred_at DESC, a.id DESC LIMIT \(bind: limit)" as SQLQueryString)
        return try await tx.sql.raw(sql).all().map(Self.decode)
    }

    /// Removes `record` from every activity's targets (the record was deleted); the activities stay.
    func removeTarget(_ target: Activity.Target, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let ids = try await tx.sql.raw(
            """
            DELETE FROM crm_activity_targets WHERE tenant_id = \(tx.bind(tenant))
              AND entity = \(bind: target.type.rawValue) AND record_id = \(tx.bind(target.id))
            RETURNING activity_id
            """
        ).all().map { try $0.decodeUUID(column: "activity_id") }
        for id in ids {
            guard var activity = try await find(id, in: tx) else { continue }
            activity.targets.removeAll { $0 == target }
            try await tx.sql.raw(
                """
                UPDATE crm_activities SET targets = \(bind: try JSONDocument.text(activity.targets)),
                  version = version + 1, updated_at = \(bind: now.epochMilliseconds)
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))
                """
            ).run()
        }
    }

    /// The condition that an activity (`a`) is not about a deal.
    private static let noDeal = """
         AND NOT EXISTS (SELECT 1 FROM crm_activity_targets d WHERE d.tenant_id = a.tenant_id
           AND d.activity_id = a.id AND d.entity = 'deal')
        """

    private static let columnNames =
        "kind, subject, body, occurred_at, due_at, remind_at, reminded_at, completed_at, duration_minutes, owner_id, "
        + "mentions, targets"

    private func values(_ activity: Activity) throws -> SQLQueryString {
        """
        \(bind: activity.kind.rawValue), \(bind: activity.subject), \(bind: activity.body),
        \(bind: activity.occurredAt.epochMilliseconds), \(bind: activity.dueAt?.epochMilliseconds),
        \(bind: activity.remindAt?.epochMilliseconds), \(bind: activity.remindedAt?.epochMilliseconds),
        \(bind: activity.completedAt?.epochMilliseconds), \(bind: activity.durationMinutes), \(bind: activity.ownerID),
        \(bind: try JSONDocument.text(activity.mentions)), \(bind: try JSONDocument.text(activity.targets))
        """
    }

    private func writeTargets(_ activity: Activity, replacing: Bool, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        if replacing {
            try await tx.sql.raw(
                """
                DELETE FROM crm_activity_targets
                WHERE tenant_id = \(tx.bind(tenant)) AND activity_id = \(tx.bind(activity.id.rawValue))
                """
            ).run()
        }
        for target in activity.targets {
            try await tx.sql.raw(
                """
                INSERT INTO crm_activity_targets (tenant_id, entity, record_id, activity_id, occurred_at)
                VALUES (\(tx.bind(tenant)), \(bind: target.type.rawValue), \(tx.bind(target.id)),
                        \(tx.bind(activity.id.rawValue)), \(bind: activity.occurredAt.epochMilliseconds))
                """
            ).run()
        }
    }

    static func decode(_ row: any SQLRow) throws -> Activity {
        Activity(
            id: ID(try row.decodeUUID(column: "id")),
            kind: Activity.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .note,
            subject: try row.decode(column: "subject", as: String?.self),
            body: try row.decode(column: "body", as: String?.self), occurredAt: try row.date("occurred_at"),
            dueAt: try row.optionalDate("due_at"), remindAt: try row.optionalDate("remind_at"),
            remindedAt: try row.optionalDate("reminded_at"), completedAt: try row.optionalDate("completed_at"),
            durationMinutes: try row.decode(column: "duration_minutes", as: Int?.self),
            ownerID: try row.decode(column: "owner_id", as: String?.self),
            createdBy: try row.decode(column: "created_by", as: String.self),
            mentions: try row.json("mentions", as: [String].self),
            targets: try row.json("targets", as: [Activity.Target].self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
