import Foundation
import Kernel
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// The Redis Streams transport: the relay appends each committed outbox event to one of `partitions` streams
/// (`inopsio:events:<n>`, chosen by the event's aggregate, so one aggregate's events stay in order in one stream),
/// and each consumer group reads the streams through a Redis consumer group (`XREADGROUP`, `XACK`).
///
/// Order per aggregate: one worker at a time holds a group's partition (a lease key in Redis, renewed while it
/// works); a partition whose holder died is taken over when the lease runs out, and the entries it had read but not
/// acknowledged are claimed (`XPENDING`, `XCLAIM`) once idle for half a lease, and handled before anything new.
///
/// Exactly-once effects, retries and dead letters are the database's, as in the in-database transport: an event is
/// applied in the consumer's transaction together with its id in `event_processed`, so a redelivered entry changes
/// nothing. An event that fails is handed to the in-database path as a delivery due after the first retry delay
/// (its outbox row put back if it was already cleaned up), and so is every later event of its aggregate while that
/// one is open, which keeps them in order; from there retries, dead letters and `replay` work as they do there.
/// The streams are trimmed to what every group has acknowledged.
package struct RedisEventTransport: Sendable {
    package let client: RedisClient
    package var partitions = 16
    /// How long a worker holds a partition without renewing it.
    package var lease: Duration = .seconds(30)
    package var prefix = "inopsio:events"

    package init(client: RedisClient) {
        self.client = client
    }

    package func stream(_ partition: Int) -> String { "\(prefix):\(partition)" }
    func leaseKey(group: String, partition: Int) -> String { "\(prefix):lease:\(group):\(partition)" }

    /// FNV-1a over the aggregate key: stable across processes and restarts (Swift's `hashValue` is not).
    package func partition(of key: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(partitions))
    }

    /// 1: renewed (already held), 2: newly taken, 0: held by another worker.
    static let renew = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
        end
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 2 end
        return 0
        """)
    static let release = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}

/// One stream entry: the event and where it came from.
struct StreamEntry: Sendable {
    let entryID: String
    let eventID: String
    let type: String
    let tenant: TenantID
    let aggregateType: String
    let aggregateID: String
    let payload: String

    var aggregateKey: String { aggregateType + ":" + aggregateID }

    /// Parses `[id, [field, value, ...]]`; nil for an entry trimmed away meanwhile.
    static func parse(_ value: RESPValue) -> StreamEntry? {
        guard let parts = value.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].map
        else { return nil }
        var values: [String: String] = [:]
        for field in fields {
            if let key = field.key.string, let text = field.value.string { values[key] = text }
        }
        guard let event = values["id"], let type = values["type"], let tenantText = values["tenant"],
            let tenant = TenantID(tenantText), let aggregateType = values["at"], let aggregateID = values["ai"],
            let payload = values["payload"]
        else { return nil }
        return StreamEntry(
            entryID: id, eventID: event, type: type, tenant: tenant, aggregateType: aggregateType,
            aggregateID: aggregateID, payload: payload)
    }
}

extension EventBackbone {
    // MARK: Relay to Redis

    /// The Redis form of `relayBatch`: the next committed events go to their partition streams (one pipelined
    /// write), then are marked relayed in the same database transaction. A relay killed between the two writes the
    /// entries again next time; consumers recognise the repeats by event id.
    func relayToRedis(_ redis: RedisEventTransport) async throws -> Int {
        let batchSize = settings.batchSize
        @Sendable func commands(_ rows: [any SQLRow]) throws -> (commands: [[String]], sequences: [Int64]) {
            var commands: [[String]] = []
            var sequences: [Int64] = []
            for row in rows {
                sequences.append(try row.decode(column: "seq", as: Int64.self))
                let aggregateType = try row.decode(column: "aggregatetype", as: String.self)
                let aggregateID = try row.decode(column: "aggregateid", as: String.self)
                let partition = redis.partition(of: aggregateType + ":" + aggregateID)
                commands.append([
                    "XADD", redis.stream(partition), "*", "id", try row.decode(column: "id", as: String.self),
                    "type", try row.decode(column: "type", as: String.self), "tenant",
                    TenantID(try row.decodeUUID(column: "tenant_id")).description, "at", aggregateType, "ai",
                    aggregateID, "payload", try row.decode(column: "payload", as: String.self),
                ])
            }
            return (commands, sequences)
        }
        @Sendable func append(_ commands: [[String]]) async throws {
            let replies = try await redis.client.pipeline(commands)
            if let failure = replies.first(where: { $0.errorMessage != nil }) {
                throw RedisError.server(failure.errorMessage ?? "XADD failed")
            }
        }
        let select: SQLQueryString = """
            SELECT seq, id, aggregatetype, aggregateid, type, tenant_id,
                   \(unsafeRaw: database.dialect == .postgres ? "payload::text" : "payload") AS payload
            FROM event_outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT \(bind: batchSize)
            """
        let relayed: Int
        switch database.dialect {
        case .postgres:
            // One relay at a time (the advisory lock), held across the Redis write so that two relays cannot
            // interleave an aggregate's events; the transaction holds no other lock meanwhile.
            relayed = try await database.system { tx -> Int in
                let locked = try await tx.sql.raw("SELECT pg_try_advisory_xact_lock(726100003) AS locked").first()
                guard try locked?.decode(column: "locked", as: Bool.self) == true else { return 0 }
                let rows = try await tx.sql.raw(select).all()
                guard !rows.isEmpty else { return 0 }
                let (commands, sequences) = try commands(rows)
                try await append(commands)
                try await tx.sql.raw(
                    "UPDATE event_outbox SET relayed_at = \(bind: self.now) WHERE seq IN (\(binds: sequences))"
                ).run()
                return rows.count
            }
        case .sqlite:
            // One process, one relay: read, append to Redis, then mark in a short write transaction, so SQLite's
            // single write lock is never held across a Redis round trip.
            let rows = try await database.readOutsideTransaction { tx in try await tx.sql.raw(select).all() }
            guard !rows.isEmpty else { return 0 }
            let (commands, sequences) = try commands(rows)
            try await append(commands)
            let now = self.now
            try await database.system { tx in
                try await tx.sql.raw(
                    "UPDATE event_outbox SET relayed_at = \(bind: now) WHERE seq IN (\(binds: sequences))"
                ).run()
            }
            relayed = rows.count
        }
        // Every worker: which of them holds the partitions these went to is not known here.
        if relayed > 0 { wakeAll() }
        return relayed
    }
}
