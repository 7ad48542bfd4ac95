import Foundation
import Kernel
import SQLKit
import TestSupport
import Testing

@testable import Platform

@Suite struct AuditTrailTests {
    static func append(
        _ count: Int, tenant: TenantID, database: any Database, start: Date = Date(), trail: AuditTrail = AuditTrail()
    ) async throws {
        for index in 0..<count {
            _ = try await database.write(tenant: tenant) { tx in
                try await trail.record(Self.entry(index), in: tx, at: start.addingTimeInterval(Double(index)))
            }
        }
    }

    static func entry(_ index: Int) -> AuditEntry {
        AuditEntry(
            action: "thing.updated", actor: .init(kind: "user", id: "u\(index % 3)", name: "User é"),
            targetType: "thing", targetID: "t\(index)", ip: "192.0.2.1", requestID: "r\(index)",
            changes: ["name": .init(before: .string("a\(index)"), after: .string("b\(index)"))],
            details: ["n": .integer(Int64(index))])
    }

    /// `(seq, lane)` of the tenant's records in order.
    static func lanes(_ database: any Database, _ tenant: TenantID) async throws -> [(seq: Int64, lane: Int32)] {
        try await database.read(tenant: tenant) { tx in
            try await tx.sql.raw("SELECT seq, lane FROM audit_log WHERE tenant_id = \(tx.bind(tenant)) ORDER BY seq")
                .all().map {
                    (try $0.decode(column: "seq", as: Int64.self), try $0.decode(column: "lane", as: Int32.self))
                }
        }
    }

    static func makeTenant(_ database: any Database, _ slug: String) async throws -> TenantID {
        try await TenantStore(database: database).create(slug: slug, name: slug).id
    }

    @Test(arguments: TestBackend.available)
    func appendedRecordsFormAnIntactChainPerTenant(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let a = try await Self.makeTenant(database, "tenant-a")
            let b = try await Self.makeTenant(database, "tenant-b")
            try await Self.append(5, tenant: a, database: database)
            try await Self.append(2, tenant: b, database: database)
            let result = try await database.read(tenant: a) { tx in try await AuditTrail().verify(in: tx, batchSize: 2)
            }
            #expect(result == AuditVerification(checked: 5, firstSequence: 1, problems: []))
            let records = try await database.read(tenant: b) { tx in
                try await AuditTrail().list(filter: AuditFilter(), limit: 10, before: nil, in: tx)
            }
            // PostgreSQL numbers the whole log from one sequence, SQLite each tenant's from 1.
            #expect(records.map(\.sequence) == (backend == .postgres ? [7, 6] : [2, 1]))
            #expect(records.first?.entry.changes["name"]?.after == .string("b1"))
        }
    }

    @Test(arguments: TestBackend.available)
    func editedRecordIsDetected(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let tenant = try await Self.makeTenant(database, "tenant-a")
            try await Self.append(4, tenant: tenant, database: database)
            // The table refuses updates outright...
            await #expect(throws: (any Error).self) {
                try await database.write(tenant: tenant) { tx in
                    try await tx.sql.raw("UPDATE audit_log SET ip = '203.0.113.9' WHERE seq = 2").run()
                }
            }
            // ...so a tamperer first removes the guard, as someone with the database owner's rights could.
            try await database.write(tenant: tenant) { tx in
                try await tx.sql.raw(
                    "DROP TRIGGER audit_log_append_only\(unsafeRaw: backend == .postgres ? " ON audit_log" : "")"
                ).run()
                try await tx.sql.raw("UPDATE audit_log SET ip = '203.0.113.9' WHERE seq = 2").run()
            }
            let result = try await database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx) }
            #expect(!result.isIntact)
            #expect(result.problems == ["record 2 was altered (its hash does not match)"])
        }
    }

    @Test(arguments: TestBackend.available)
    func removedRecordInTheMiddleIsDetectedButRetentionOfThePrefixIsNot(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let tenant = try await Self.makeTenant(database, "tenant-a")
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            try await Self.append(6, tenant: tenant, database: database, start: start, trail: AuditTrail(lanes: 1))
            let removed = try await database.write(tenant: tenant) { tx in
                try await AuditTrail().deleteOlderThan(start.addingTimeInterval(2), in: tx)
            }
            #expect(removed == 2)
            let afterRetention = try await database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx) }
            #expect(afterRetention == AuditVerification(checked: 4, firstSequence: 3, problems: []))
            try await database.write(tenant: tenant) { tx in
                try await tx.sql.raw("DELETE FROM audit_log WHERE seq = 4").run()
            }
            let result = try await database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx) }
            #expect(result.problems.contains("record 5 does not link to record 3"))
            // `seq` has gaps on PostgreSQL (a rolled-back transaction keeps its number), so only SQLite counts them.
            #expect(result.problems.contains("records 4...4 are missing") == (backend == .sqlite))
        }
    }

    /// Concurrent writers of one tenant: on PostgreSQL they spread over lanes and commit side by side; every lane
    /// verifies, and a record removed from the middle of a lane is found.
    @Test(arguments: TestBackend.available)
    func concurrentWritersSpreadOverLanesThatEachVerify(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let tenant = try await Self.makeTenant(database, "tenant-a")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for index in stride(from: worker, to: 48, by: 4) {
                            _ = try await database.write(tenant: tenant) { tx in
                                // Two records in one transaction go to the same lane, one after the other.
                                try await AuditTrail().record(Self.entry(index), in: tx, at: Date())
                                try await AuditTrail().record(Self.entry(index + 1_000), in: tx, at: Date())
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let intact = try await database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx) }
            #expect(intact.checked == 96 && intact.isIntact, "\(intact.problems)")
            let records = try await Self.lanes(database, tenant)
            let laneOf = Dictionary(uniqueKeysWithValues: records.map { ($0.seq, $0.lane) })
            let pairs = try await database.read(tenant: tenant) { tx in
                try await tx.sql.raw("SELECT seq, target_id FROM audit_log").all().map {
                    (try $0.decode(column: "target_id", as: String.self), try $0.decode(column: "seq", as: Int64.self))
                }
            }
            let seqOf = Dictionary(uniqueKeysWithValues: pairs)
            for index in 0..<48 {
                #expect(laneOf[seqOf["t\(index)"] ?? -1] == laneOf[seqOf["t\(index + 1_000)"] ?? -2])
            }
            let used = Set(records.map(\.lane))
            // The lane is the transaction id modulo 8, and other tests' transactions take ids meanwhile.
            #expect(backend == .postgres ? used.count > 1 : used == [0])
            // Remove a record that has records before and after it in its lane (the fullest one).
            let counts = Dictionary(grouping: records, by: \.lane).mapValues(\.count)
            let lane = try #require(counts.max { $0.value < $1.value }?.key)
            let inLane = records.filter { $0.lane == lane }.map(\.seq)
            try #require(inLane.count >= 3)
            try await database.write(tenant: tenant) { tx in
                try await tx.sql.raw("DELETE FROM audit_log WHERE seq = \(bind: inLane[1])").run()
            }
            let result = try await database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx) }
            #expect(result.problems.contains("record \(inLane[2]) does not link to record \(inLane[0])"))
        }
    }

    /// Records written before lanes existed (lane 0, `seq` 1, 2, 3 per tenant) still verify, and PostgreSQL's
    /// sequence continues above every tenant's last `seq`.
    @Test(arguments: TestBackend.available)
    func recordsFromBeforeLanesStillVerifyAndNewOnesFollowThem(_ backend: TestBackend) async throws {
        let beforeLanes = PlatformMigrations.all.filter { !($0.module == "platform" && $0.number >= 6) }
        try await withTestDatabase(backend, migrations: beforeLanes) { database, _ in
            let tenants = [
                try await Self.makeTenant(database, "tenant-a"), try await Self.makeTenant(database, "tenant-b"),
            ]
            for (offset, tenant) in tenants.enumerated() {
                // The old writer: one chain per tenant, no lane column.
                var previous = AuditTrail.genesisHash
                for sequence in Int64(1)...Int64(3 + offset * 2) {
                    let stored = StoredAudit(
                        tenant: tenant.description, sequence: sequence, id: UUID.v7().lowercasedString,
                        occurredAt: 1_700_000_000_000 + sequence, entry: Self.entry(Int(sequence)),
                        data: try AuditTrail.dataText(Self.entry(Int(sequence))), previousHash: previous)
                    let hash = stored.computeHash()
                    try await database.write(tenant: tenant) { tx in
                        try await tx.sql.raw(
                            """
                            INSERT INTO audit_log (tenant_id, seq, id, occurred_at, action, actor_kind, actor_id,
                                actor_name, outcome, target_type, target_id, ip, request_id, data, prev_hash, hash)
                            VALUES (\(tx.bind(tenant)), \(bind: sequence), \(bind: stored.id), \(bind: stored.occurredAt),
                                \(bind: stored.entry.action), 'user', \(bind: stored.entry.actor.id), 'User é', 'success',
                                'thing', \(bind: stored.entry.targetID), '192.0.2.1', \(bind: stored.entry.requestID),
                                \(bind: stored.data), \(bind: stored.previousHash), \(bind: hash))
                            """
                        ).run()
                    }
                    previous = hash
                }
            }
            try await MigrationRunner(
                database: database, migrations: PlatformMigrations.all, logger: TestEnvironment.logger
            ).apply()
            try await Self.append(4, tenant: tenants[0], database: database)
            let result = try await database.read(tenant: tenants[0]) { tx in try await AuditTrail().verify(in: tx) }
            #expect(result == AuditVerification(checked: 7, firstSequence: 1, problems: []))
            let sequences = try await Self.lanes(database, tenants[0]).map(\.seq)
            // Tenant b's last record is 5, so PostgreSQL's sequence goes on from 6.
            #expect(sequences == (backend == .postgres ? [1, 2, 3, 6, 7, 8, 9] : [1, 2, 3, 4, 5, 6, 7]))
        }
    }

    @Test(arguments: TestBackend.available)
    func filtersSelectByActorActionTargetAndTime(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let tenant = try await Self.makeTenant(database, "tenant-a")
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            try await Self.append(6, tenant: tenant, database: database, start: start)
            func sequences(_ filter: AuditFilter) async throws -> [Int64] {
                try await database.read(tenant: tenant) { tx in
                    try await AuditTrail().list(filter: filter, limit: 50, before: nil, in: tx).map(\.sequence)
                }
            }
            var byActor = AuditFilter()
            byActor.actorID = "u1"
            #expect(try await sequences(byActor) == [5, 2])
            var byTarget = AuditFilter()
            byTarget.targetType = "thing"
            byTarget.targetID = "t3"
            #expect(try await sequences(byTarget) == [4])
            var byTime = AuditFilter()
            byTime.since = start.addingTimeInterval(4)
            #expect(try await sequences(byTime) == [6, 5])
            var byAction = AuditFilter()
            byAction.actionPrefix = "thing."
            #expect(try await sequences(byAction).count == 6)
            byAction.actionPrefix = "other."
            #expect(try await sequences(byAction).isEmpty)
        }
    }
}

@Suite struct AuditDataTextTests {
    /// The `data` column is written by hand; it must be what `JSONEncoder` (sorted keys) writes for `AuditData`.
    @Test func matchesJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let changes: [[String: AuditEntry.Change]] = [
            [:], ["name": .init(before: "a", after: "b")], ["x": .init(before: nil, after: .integer(2))],
            ["y": .init(before: .null, after: nil)],
            ["z": .init(before: nil, after: nil), "a/b": .init(before: [.integer(1), "\""], after: ["k": true])],
        ]
        for change in changes {
            for details in [[:], ["reason": "ünï \"q\"", "n": .number(1.5)]] as [[String: JSONValue]] {
                var entry = AuditEntry(
                    action: "t.changed", actor: .init(kind: "user", id: "u", name: nil), outcome: .success)
                entry.changes = change
                entry.details = details
                let data = AuditData(changes: change, details: details)
                let expected = String(decoding: try encoder.encode(data), as: UTF8.self)
                #expect(try AuditTrail.dataText(entry) == expected)
            }
        }
    }
}
