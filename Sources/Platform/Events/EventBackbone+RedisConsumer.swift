import Foundation
import Kernel
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// Consuming from the Redis Streams transport (see `RedisEventTransport`): each worker's passes over a group's
/// partitions, taking over what a dead holder left, and handing failures to the in-database path.
extension EventBackbone {
    /// One pass of `worker` over `group`'s partitions: each partition it holds (or can take) gives up to a batch.
    /// Returns how many entries it handled.
    package func consumeRedis(group: String, worker: String) async throws -> Int {
        guard let redis, let consumer = consumers[group] else { return 0 }
        var handled = 0
        let start = Int.random(in: 0..<redis.partitions)
        for offset in 0..<redis.partitions {
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let partition = (start + offset) % redis.partitions
            let leaseKey = redis.leaseKey(group: group, partition: partition)
            let held = try await redis.client.evalSHA(
                RedisEventTransport.renew, keys: [leaseKey], arguments: [worker, String(redis.lease.milliseconds)])
            guard let state = held.int, state > 0 else { continue }
            // Newly taken (2): first finish what a previous holder left unacknowledged.
            let claimKey = "\(group)|\(partition)|\(worker)"
            if state == 2 { _ = redisToClaim.withLock { $0.insert(claimKey) } }
            let count: Int
            do {
                count = try await drain(
                    redis, partition: partition, consumer: consumer, worker: worker, leaseKey: leaseKey,
                    claimKey: claimKey)
            } catch let error as RedisError {
                // The group vanished (Redis restarted without its data): make it again on the next pass.
                if case .server(let message) = error, message.hasPrefix("NOGROUP") {
                    _ = redisGroups.withLock { $0.remove(redis.stream(partition) + "|" + group) }
                }
                _ = redisToClaim.withLock { $0.insert(claimKey) }
                throw error
            } catch {
                _ = redisToClaim.withLock { $0.insert(claimKey) }
                throw error
            }
            handled += count
            // Idle for a while (about 5 s of polls): let any worker of any process take it, so partitions spread
            // over the processes; a partition idle only between two batches stays, and costs no re-claim.
            let idle = redisIdlePasses.withLock { passes in
                passes[claimKey] = count == 0 ? (passes[claimKey] ?? 0) + 1 : 0
                return passes[claimKey] ?? 0
            }
            if idle >= 50 {
                redisIdlePasses.withLock { $0[claimKey] = nil }
                _ = try await redis.client.evalSHA(RedisEventTransport.release, keys: [leaseKey], arguments: [worker])
            }
        }
        return handled
    }

    /// Gives up `worker`'s partitions of `group` (when it stops), so others take them over at once.
    package func releasePartitions(group: String, worker: String) async {
        guard let redis else { return }
        for partition in 0..<redis.partitions {
            _ = try? await redis.client.evalSHA(
                RedisEventTransport.release, keys: [redis.leaseKey(group: group, partition: partition)],
                arguments: [worker])
        }
    }

    /// Creates this process's groups on every partition (before its relay starts appending).
    func createRedisGroups(_ redis: RedisEventTransport) async throws {
        for group in consumers.keys.sorted() {
            for partition in 0..<redis.partitions {
                try await ensureGroup(redis, stream: redis.stream(partition), group: group)
            }
        }
    }

    private func ensureGroup(_ redis: RedisEventTransport, stream: String, group: String) async throws {
        let key = stream + "|" + group
        guard !redisGroups.withLock({ $0.contains(key) }) else { return }
        // From the start of what the stream still holds: entries the relay appended before this group existed
        // are its too (the streams are trimmed to what every existing group has acknowledged, so that is little).
        let reply = try await redis.client.pipeline([["XGROUP", "CREATE", stream, group, "0", "MKSTREAM"]])
        if let message = reply.first?.errorMessage, !message.hasPrefix("BUSYGROUP") {
            throw RedisError.server(message)
        }
        _ = redisGroups.withLock { $0.insert(key) }
    }

    /// Handles the partition's next entries for the consumer: first those read before but never acknowledged (a
    /// previous holder's, or this worker's own after a failed pass), then new ones. An entry delivered
    /// `maxAttempts` times without being acknowledged (its handler crashed or hung its worker each time) is handed to
    /// the database path as failed instead of being tried again here.
    private func drain(
        _ redis: RedisEventTransport, partition: Int, consumer: any EventConsumer, worker: String, leaseKey: String,
        claimKey: String
    ) async throws -> Int {
        let stream = redis.stream(partition)
        let group = consumer.group
        try await ensureGroup(redis, stream: stream, group: group)
        let count = String(settings.batchSize)
        var raw: [RESPValue] = []
        var redelivered: [String: Int] = [:]
        if redisToClaim.withLock({ $0.contains(claimKey) }) {
            // What the group has read on this partition and not acknowledged, oldest first. This worker's own entries
            // are taken back at once; another worker's once idle for half a lease (a holder that lost its lease
            // mid-batch is not robbed of entries it is still working on: it stops at its next lease check).
            let pending = try await redis.client.send(["XPENDING", stream, group, "-", "+", count])
            var claimable: [String] = []
            var own: [String] = []
            var waiting = false
            for entry in pending.array ?? [] {
                guard let fields = entry.array, fields.count >= 4, let id = fields[0].string,
                    let owner = fields[1].string, let idle = fields[2].int, let times = fields[3].int
                else { continue }
                if owner == worker {
                    // Read by a pass of this worker that stopped before applying them (it lost its lease, or Redis
                    // or the database failed): that read was no try, and taking them back must not count one
                    // (`XCLAIM` would), so they are read again with `XRANGE`.
                    own.append(id)
                    redelivered[id] = times - 1
                } else if Int64(idle) >= redis.lease.milliseconds / 2 {
                    claimable.append(id)
                    redelivered[id] = times
                } else {
                    waiting = true
                    break
                }
            }
            if !own.isEmpty {
                let replies = try await redis.client.pipeline(own.map { ["XRANGE", stream, $0, $0] })
                raw += replies.compactMap { $0.array?.first }
            }
            if !claimable.isEmpty {
                let claimed = try await redis.client.send(["XCLAIM", stream, group, worker, "0"] + claimable)
                raw += claimed.array ?? []
            }
            // New entries only once nothing older of this partition is left with anyone (the order per aggregate).
            if waiting || !raw.isEmpty {
                if raw.isEmpty { return 0 }
            } else {
                _ = redisToClaim.withLock { $0.remove(claimKey) }
            }
        }
        if raw.isEmpty {
            let read = try await redis.client.send([
                "XREADGROUP", "GROUP", group, worker, "COUNT", count, "STREAMS", stream, ">",
            ])
            if let map = read.map, let first = map.first {
                raw = first.value.array ?? []
            } else if let streams = read.array, let first = streams.first?.array, first.count == 2 {
                raw = first[1].array ?? []
            }
        }
        guard !raw.isEmpty else { return 0 }
        raw.sort { Self.streamID($0.array?.first?.string ?? "", isBefore: $1.array?.first?.string ?? "") }
        let ids = raw.compactMap { $0.array?.first?.string }
        let entries = raw.compactMap(StreamEntry.parse)
        let wanted = entries.filter { entry in
            consumer.eventTypes.contains("*") || consumer.eventTypes.contains(entry.type)
        }
        // Still ours? A worker that lost its partition leaves the entries to the new holder.
        let renewed = try await redis.client.evalSHA(
            RedisEventTransport.renew, keys: [leaseKey], arguments: [worker, String(redis.lease.milliseconds)])
        guard renewed.int == 1 else {
            // Lost meanwhile (and maybe taken back): what was read stays pending, to be claimed first next time.
            _ = redisToClaim.withLock { $0.insert(claimKey) }
            return 0
        }
        // Delivered `maxAttempts` times already and never acknowledged: given up, as the database path gives up a
        // delivery whose lease ran out after its last try.
        let poisoned = wanted.filter { (redelivered[$0.entryID] ?? 0) >= settings.maxAttempts }
        if !poisoned.isEmpty {
            try await spill(
                poisoned, group: group,
                failure: (
                    tries: settings.maxAttempts,
                    error: "its worker stopped or hung on each of its \(settings.maxAttempts) tries (the lease ran out)"
                ))
        }
        let rest = wanted.filter { (redelivered[$0.entryID] ?? 0) < settings.maxAttempts }
        if !rest.isEmpty { try await apply(rest, consumer: consumer) }
        _ = try await redis.client.send(["XACK", stream, group] + ids)
        return ids.count
    }

    /// Applies entries in stream order: together in one transaction when all succeed, else one by one; an entry
    /// that fails, or whose aggregate already has an open delivery in the database, goes to the database path.
    private func apply(_ entries: [StreamEntry], consumer: any EventConsumer) async throws {
        let group = consumer.group
        let keys = Array(Set(entries.map(\.aggregateKey)))
        var blocked = Set(
            try await database.systemRead { tx in
                try await tx.sql.raw(
                    """
                    SELECT DISTINCT aggregate_key FROM event_deliveries
                    WHERE consumer_group = \(bind: group) AND status <> 'dead' AND aggregate_key IN (\(binds: keys))
                    """
                ).all().map { try $0.decode(column: "aggregate_key", as: String.self) }
            })
        let ready = entries.filter { !blocked.contains($0.aggregateKey) }
        let waiting = entries.filter { blocked.contains($0.aggregateKey) }
        if !waiting.isEmpty { try await spill(waiting, group: group) }
        guard !ready.isEmpty else { return }
        do {
            try await applyTogether(ready, consumer: consumer)
            counters.withLock { $0.appliedTogether += ready.count }
            outcomes?.applied.increment(by: Int64(ready.count))
            return
        } catch {
            counters.withLock { $0.batchFallbacks += 1 }
        }
        for entry in ready {
            if blocked.contains(entry.aggregateKey) {
                try await spill([entry], group: group)
                continue
            }
            do {
                try await applyTogether([entry], consumer: consumer)
                counters.withLock { $0.appliedAlone += 1 }
                outcomes?.applied.increment()
            } catch {
                outcomes?.failed.increment()
                logger.warning(
                    "event failed; retrying through the database",
                    metadata: [
                        "event.group": "\(group)", "event.id": "\(entry.eventID)",
                        "error.message": "\(String(reflecting: error))",
                    ])
                try await spill([entry], group: group, failure: (tries: 1, error: String(describing: error)))
                blocked.insert(entry.aggregateKey)
            }
        }
    }

    private func applyTogether(_ entries: [StreamEntry], consumer: any EventConsumer) async throws {
        let group = consumer.group
        let events = try entries.map { try EventEnvelope(jsonText: $0.payload) }
        let now = self.now
        try await database.system { tx in
            let seen = Set(
                try await tx.sql.raw(
                    """
                    SELECT event_id FROM event_processed
                    WHERE consumer_group = \(bind: group) AND event_id IN (\(binds: entries.map(\.eventID)))
                    """
                ).all().map { try $0.decode(column: "event_id", as: String.self) })
            // In stream order, each once (a relay may have written an entry twice).
            var fresh: [(tenant: TenantID, event: EventEnvelope)] = []
            var taken = seen
            for (entry, event) in zip(entries, events) where taken.insert(entry.eventID).inserted {
                fresh.append((entry.tenant, event))
            }
            try await Self.handle(fresh, consumer: consumer, in: tx)
            let applied = fresh.map(\.event.id)
            if !applied.isEmpty {
                var insert: SQLQueryString =
                    "INSERT INTO event_processed (consumer_group, event_id, processed_at) VALUES "
                for (index, id) in applied.enumerated() {
                    if index > 0 { insert.appendLiteral(", ") }
                    insert.appendInterpolation("(\(bind: group), \(bind: id), \(bind: now))" as SQLQueryString)
                }
                try await tx.sql.raw(insert).run()
            }
        }
    }

    /// Hands entries to the in-database path: a delivery each, at once when it only waits behind its aggregate;
    /// after a failure, counting the `tries` made here, due after the retry delay or dead when they were the last.
    /// Its outbox row is put back if cleanup already removed it.
    private func spill(
        _ entries: [StreamEntry], group: String, failure: (tries: Int, error: String)? = nil
    ) async throws {
        let now = self.now
        let attempts = failure?.tries ?? 0
        let dead = failure != nil && attempts >= settings.maxAttempts
        let due = failure == nil ? now : now + settings.retryDelay(afterAttempt: attempts).milliseconds
        let error = failure.map { String($0.error.prefix(2_000)) }
        try await database.system { tx in
            if tx.dialect == .postgres {
                // Against `cleanUp` deleting the outbox row this puts back before the delivery is visible.
                try await tx.sql.raw("SELECT pg_advisory_xact_lock_shared(726100004)").run()
            }
            for entry in entries {
                let tenant = tx.bind(entry.tenant)
                let payload: SQLQueryString =
                    tx.dialect == .postgres ? "CAST(\(bind: entry.payload) AS JSONB)" : "\(bind: entry.payload)"
                try await tx.sql.raw(
                    """
                    INSERT INTO event_outbox (id, aggregatetype, aggregateid, type, payload, tenant_id, created_at,
                                              relayed_at)
                    VALUES (\(bind: entry.eventID), \(bind: entry.aggregateType), \(bind: entry.aggregateID),
                            \(bind: entry.type), \(payload), \(tenant), \(bind: now), \(bind: now))
                    ON CONFLICT (id) DO NOTHING
                    """
                ).run()
                try await tx.sql.raw(
                    """
                    INSERT INTO event_deliveries (consumer_group, event_id, event_type, aggregate_key, tenant_id,
                                                  status, available_at, attempts, last_error, dead_at)
                    VALUES (\(bind: group), \(bind: entry.eventID), \(bind: entry.type), \(bind: entry.aggregateKey),
                            \(tenant), \(bind: dead ? "dead" : "pending"), \(bind: due), \(bind: attempts),
                            \(bind: error), \(bind: dead ? now : nil as Int64?))
                    ON CONFLICT (consumer_group, event_id) DO NOTHING
                    """
                ).run()
            }
        }
        if dead {
            outcomes?.dead.increment(by: Int64(entries.count))
            logger.error(
                "events moved to dead letters",
                metadata: ["event.group": "\(group)", "event.ids": "\(entries.map(\.eventID))"])
        }
        wake([group: nil])
    }

    /// Trims every stream to what all its groups have acknowledged (the oldest entry still pending in a group, or
    /// the last one a group was given).
    func trimStreams(_ redis: RedisEventTransport) async throws {
        let registered = Set(
            try await database.systemRead { tx in
                try await tx.sql.raw("SELECT DISTINCT consumer_group FROM event_subscriptions").all().map {
                    try $0.decode(column: "consumer_group", as: String.self)
                }
            })
        for partition in 0..<redis.partitions {
            let stream = redis.stream(partition)
            let info = try await redis.client.pipeline([["XINFO", "GROUPS", stream]])
            guard let groups = info.first?.array, !groups.isEmpty else { continue }
            var floor: String?
            for group in groups {
                guard let fields = group.map else { continue }
                var values: [String: RESPValue] = [:]
                for field in fields { if let key = field.key.string { values[key] = field.value } }
                // Groups no process registers any more (renamed or removed) do not hold the streams back.
                guard let name = values["name"]?.string, registered.contains(name),
                    var point = values["last-delivered-id"]?.string
                else { continue }
                if (values["pending"]?.int ?? 0) > 0 {
                    let pending = try await redis.client.send(["XPENDING", stream, name])
                    if let oldest = pending.array?.dropFirst().first?.string { point = oldest }
                }
                if floor == nil || Self.streamID(point, isBefore: floor!) { floor = point }
            }
            if let floor, floor != "0-0" {
                _ = try await redis.client.send(["XTRIM", stream, "MINID", floor])
            }
        }
    }

    package static func streamID(_ left: String, isBefore right: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let pieces = id.split(separator: "-")
            return (UInt64(pieces.first ?? "0") ?? 0, UInt64(pieces.count > 1 ? pieces[1] : "0") ?? 0)
        }
        return parts(left) < parts(right)
    }
}
