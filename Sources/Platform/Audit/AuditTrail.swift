import Crypto
import Foundation
import Kernel
import SQLKit

/// The append-only, hash-chained audit log shared by every module (a platform table, so modules need not import
/// Identity to record their changes). Each record stores `hash = SHA-256(hash of the record before it in its chain |
/// canonical form of the record)`, so editing, inserting or removing a record in the middle of a chain is detected by
/// `verify`. Appends happen inside the caller's transaction: the change and its record commit together.
///
/// **Lanes.** Appending to a chain means holding its lock from reading its last record until the commit. With one
/// chain per tenant that held a tenant's writes to one commit at a time (each with its own WAL flush: about 400 a
/// second here). On PostgreSQL a tenant's log is therefore `lanes` chains (the `lane` column): a transaction
/// appends to lane `txid % lanes`, so all of its records go to one lane and two transactions never wait for each
/// other's lanes in opposite orders, and different transactions mostly take different lanes and commit together.
/// `seq` comes from one PostgreSQL sequence, taken after the lane's lock: it orders the whole log and grows along
/// every lane, with gaps where a transaction rolled back. On SQLite (one writer at a time anyway) there is one lane
/// and `seq` counts 1, 2, 3, ... per tenant. The lane is not hashed: it only says where a record's predecessor is,
/// and a record moved to another lane no longer links to its new predecessor.
///
/// What a chain cannot show, one or several: removing its newest records (the tail), or its oldest (which is what
/// retention does). With lanes the tail is each lane's last record, so the newest `lanes` records are tails.
package struct AuditTrail: Sendable {
    package static let genesisHash = String(repeating: "0", count: 64)
    /// Chains per tenant on PostgreSQL.
    package static let defaultLanes = 8

    /// How many lanes this writer spreads its transactions over (readers follow whatever lanes are stored).
    let lanes: Int

    package init(lanes: Int = AuditTrail.defaultLanes) {
        precondition((1...1_024).contains(lanes), "lanes must be 1...1024")
        self.lanes = lanes
    }

    /// Appends `entry` to the current tenant's log inside `tx` (a tenant transaction).
    @discardableResult
    package func record(_ entry: AuditEntry, in tx: Transaction, at now: Date) async throws -> AuditRecord {
        let tenant = try tx.requireTenant()
        let lane: Int32
        let last: (any SQLRow)?
        switch tx.dialect {
        case .postgres:
            // The lane's lock first, in a statement of its own: the read below must see the lane as its previous
            // holder committed it, and a statement sees what was committed when it started.
            let chosen = try await tx.sql.raw(
                """
                SELECT lane FROM (SELECT (txid_current() % \(bind: Int64(lanes)))::int4 AS lane) AS chosen,
                    LATERAL pg_advisory_xact_lock(\(bind: Self.lockKey(tenant)) # lane) AS locked
                """
            ).first()
            lane = try chosen?.decode(column: "lane", as: Int32.self) ?? 0
            last = try await tx.sql.raw(
                """
                SELECT nextval('audit_log_seq') AS next_seq, (
                    SELECT hash FROM audit_log WHERE tenant_id = \(tx.bind(tenant)) AND lane = \(bind: lane)
                    ORDER BY seq DESC LIMIT 1
                ) AS hash
                """
            ).first()
        case .sqlite:
            lane = 0
            last = try await tx.sql.raw(
                """
                SELECT seq + 1 AS next_seq, hash FROM audit_log WHERE tenant_id = \(tx.bind(tenant))
                ORDER BY seq DESC LIMIT 1
                """
            ).first()
        }
        let sequence = try last?.decode(column: "next_seq", as: Int64.self) ?? 1
        let previous = try last?.decode(column: "hash", as: String?.self) ?? Self.genesisHash
        let stored = StoredAudit(
            tenant: tenant.description, sequence: sequence, id: UUID.v7().lowercasedString,
            occurredAt: now.epochMilliseconds, entry: entry, data: try Self.dataText(entry), previousHash: previous)
        let hash = stored.computeHash()
        try await tx.sql.raw(
            """
            INSERT INTO audit_log (tenant_id, seq, lane, id, occurred_at, action, actor_kind, actor_id, actor_name,
                                   outcome, target_type, target_id, ip, request_id, data, prev_hash, hash)
            VALUES (\(tx.bind(tenant)), \(bind: sequence), \(bind: lane), \(bind: stored.id), \(bind: stored.occurredAt),
                    \(bind: entry.action), \(bind: entry.actor.kind), \(bind: entry.actor.id), \(bind: entry.actor.name),
                    \(bind: entry.outcome.rawValue), \(bind: entry.targetType), \(bind: entry.targetID), \(bind: entry.ip),
                    \(bind: entry.requestID), \(bind: stored.data), \(bind: previous), \(bind: hash))
            """
        ).run()
        return AuditRecord(
            sequence: sequence, id: stored.id, occurredAt: Date(epochMilliseconds: stored.occurredAt), entry: entry,
            hash: hash)
    }

    /// Records newest first, filtered, `limit` at a time before sequence `before`.
    package func list(filter: AuditFilter, limit: Int, before: Int64?, in tx: Transaction) async throws
        -> [AuditRecord]
    {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM audit_log WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        if let before { query.appendInterpolation(unsafeRaw: " AND seq < "); query.appendInterpolation(bind: before) }
        for (column, value) in filter.equalities {
            query.appendInterpolation(unsafeRaw: " AND \(column) = ")
            query.appendInterpolation(bind: value)
        }
        if let prefix = filter.actionPrefix {
            query.appendInterpolation(unsafeRaw: " AND substr(action, 1, \(prefix.utf8.count)) = ")
            query.appendInterpolation(bind: prefix)
        }
        if let since = filter.since {
            query.appendInterpolation(unsafeRaw: " AND occurred_at >= ")
            query.appendInterpolation(bind: since.epochMilliseconds)
        }
        if let until = filter.until {
            query.appendInterpolation(unsafeRaw: " AND occurred_at < ")
            query.appendInterpolation(bind: until.epochMilliseconds)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY seq DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    /// Removes the oldest records that occurred before `cutoff` (the retention setting). Only a prefix of the chain
    /// is removed, so what remains still verifies from its first record on.
    @discardableResult
    package func deleteOlderThan(_ cutoff: Date, in tx: Transaction) async throws -> Int {
        let tenant = try tx.requireTenant()
        let keep = try await tx.sql.raw(
            """
            SELECT MIN(seq) AS first_kept FROM audit_log
            WHERE tenant_id = \(tx.bind(tenant)) AND occurred_at >= \(bind: cutoff.epochMilliseconds)
            """
        ).first().flatMap {
            try? $0.decodeNil(column: "first_kept") ? nil : $0.decode(column: "first_kept", as: Int64.self)
        }
        let rows = try await tx.sql.raw(
            """
            DELETE FROM audit_log WHERE tenant_id = \(tx.bind(tenant)) AND seq < \(bind: keep ?? Int64.max)
            RETURNING seq
            """
        ).all()
        return rows.count
    }

    /// Re-computes the current tenant's chains and reports every record that does not match: in `seq` order, each
    /// record must link to the one before it in its lane (the first one of a lane may link to a record that
    /// retention removed), and on SQLite no `seq` may be missing.
    package func verify(in tx: Transaction, batchSize: Int = 1_000) async throws -> AuditVerification {
        let tenant = try tx.requireTenant()
        var result = AuditVerification()
        var lastOfLane: [Int32: (sequence: Int64, hash: String)] = [:]
        var expectedSequence: Int64?
        var after: Int64 = 0
        while true {
            let rows = try await tx.sql.raw(
                """
                SELECT * FROM audit_log WHERE tenant_id = \(tx.bind(tenant)) AND seq > \(bind: after)
                ORDER BY seq LIMIT \(bind: batchSize)
                """
            ).all()
            for row in rows {
                let stored = try Self.decodeStored(row)
                let hash = try row.decode(column: "hash", as: String.self)
                let lane = try row.decode(column: "lane", as: Int32.self)
                if result.firstSequence == nil { result.firstSequence = stored.sequence }
                if tx.dialect == .sqlite, let expectedSequence, stored.sequence != expectedSequence {
                    result.problems.append("records \(expectedSequence)...\(stored.sequence - 1) are missing")
                }
                if let previous = lastOfLane[lane] {
                    if stored.previousHash != previous.hash {
                        result.problems.append(
                            "record \(stored.sequence) does not link to record \(previous.sequence)")
                    }
                } else if stored.sequence == 1, stored.previousHash != Self.genesisHash {
                    result.problems.append("record 1 does not start the chain")
                }
                if stored.computeHash() != hash {
                    result.problems.append("record \(stored.sequence) was altered (its hash does not match)")
                }
                lastOfLane[lane] = (stored.sequence, hash)
                expectedSequence = stored.sequence + 1
                after = stored.sequence
                result.checked += 1
            }
            if rows.count < batchSize { break }
        }
        return result
    }

    static func lockKey(_ tenant: TenantID) -> Int64 {
        let bytes = withUnsafeBytes(of: tenant.rawValue.uuid) { Array($0) }
        return bytes[8..<16].reduce(Int64(0x41_55_44)) { ($0 << 8) | Int64($1) }
    }

    /// The `data` column's text: what `JSONEncoder` (sorted keys) writes for `AuditData`, by `JSONWriter`.
    static func dataText(_ entry: AuditEntry) throws -> String {
        var writer = JSONWriter(capacity: 512)
        writer.raw("{\"changes\":{")
        for (index, field) in entry.changes.keys.sorted().enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(field)
            writer.raw(":{")
            let change = entry.changes[field] ?? AuditEntry.Change(before: nil, after: nil)
            if let after = change.after {
                writer.raw("\"after\":")
                writer.value(after)
            }
            if let before = change.before {
                writer.raw(change.after == nil ? "\"before\":" : ",\"before\":")
                writer.value(before)
            }
            writer.raw("}")
        }
        writer.raw("},\"details\":")
        writer.object(entry.details)
        writer.raw("}")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func decodeStored(_ row: any SQLRow) throws -> StoredAudit {
        let dataText = try row.decode(column: "data", as: String.self)
        let data = try JSONDecoder().decode(AuditData.self, from: Data(dataText.utf8))
        let entry = AuditEntry(
            action: try row.decode(column: "action", as: String.self),
            actor: .init(
                kind: try row.decode(column: "actor_kind", as: String.self),
                id: try row.decode(column: "actor_id", as: String?.self),
                name: try row.decode(column: "actor_name", as: String?.self)),
            outcome: AuditEntry.Outcome(rawValue: try row.decode(column: "outcome", as: String.self)) ?? .failure,
            targetType: try row.decode(column: "target_type", as: String?.self),
            targetID: try row.decode(column: "target_id", as: String?.self),
            ip: try row.decode(column: "ip", as: String?.self),
            requestID: try row.decode(column: "request_id", as: String?.self),
            changes: data.changes, details: data.details)
        return StoredAudit(
            tenant: try row.decodeUUID(column: "tenant_id").lowercasedString,
            sequence: try row.decode(column: "seq", as: Int64.self),
            id: try row.decode(column: "id", as: String.self),
            occurredAt: try row.decode(column: "occurred_at", as: Int64.self), entry: entry, data: dataText,
            previousHash: try row.decode(column: "prev_hash", as: String.self))
    }

    static func decode(_ row: any SQLRow) throws -> AuditRecord {
        let stored = try decodeStored(row)
        return AuditRecord(
            sequence: stored.sequence, id: stored.id, occurredAt: Date(epochMilliseconds: stored.occurredAt),
            entry: stored.entry, hash: try row.decode(column: "hash", as: String.self))
    }
}

/// Filters of the audit query API; every value is bound.
package struct AuditFilter: Sendable, Equatable {
    package var actorID: String?
    package var actionPrefix: String?
    package var outcome: AuditEntry.Outcome?
    package var targetType: String?
    package var targetID: String?
    package var since: Date?
    package var until: Date?

    package init() {}

    var equalities: [(String, String)] {
        var result: [(String, String)] = []
        if let actorID { result.append(("actor_id", actorID)) }
        if let outcome { result.append(("outcome", outcome.rawValue)) }
        if let targetType { result.append(("target_type", targetType)) }
        if let targetID { result.append(("target_id", targetID)) }
        return result
    }
}

/// What `verify` found.
package struct AuditVerification: Sendable, Equatable {
    package var checked = 0
    /// The first record still stored (above 1 when retention removed older ones).
    package var firstSequence: Int64?
    package var problems: [String] = []

    package init(checked: Int = 0, firstSequence: Int64? = nil, problems: [String] = []) {
        self.checked = checked
        self.firstSequence = firstSequence
        self.problems = problems
    }

    package var isIntact: Bool { problems.isEmpty }
}

/// The JSON column: changed fields and free-form details. Stored as text (not `jsonb`) on both engines so that the
/// bytes that were hashed are the bytes that are read back.
struct AuditData: Codable {
    let changes: [String: AuditEntry.Change]
    let details: [String: JSONValue]
}

/// A record's hashed content.
struct StoredAudit {
    let tenant: String
    let sequence: Int64
    let id: String
    let occurredAt: Int64
    let entry: AuditEntry
    let data: String
    let previousHash: String

    /// SHA-256 over the previous hash and every stored column, each length-prefixed so no two records can produce
    /// the same input by shifting text between columns.
    func computeHash() -> String {
        var hasher = SHA256()
        let fields: [String?] = [
            previousHash, tenant, String(sequence), id, String(occurredAt), entry.action, entry.actor.kind,
            entry.actor.id, entry.actor.name, entry.outcome.rawValue, entry.targetType, entry.targetID, entry.ip,
            entry.requestID, data,
        ]
        for field in fields {
            let bytes = field.map { Array($0.utf8) }
            let length = bytes.map { String($0.count) } ?? "-"
            hasher.update(data: Array("\(length):".utf8))
            hasher.update(data: bytes ?? [])
        }
        return hasher.finalize().lowercaseHex
    }
}
