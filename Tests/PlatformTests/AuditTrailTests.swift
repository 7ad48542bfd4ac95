import Foundation
import Kernel
@testable import Platform
import SQLKit
import TestSupport
import Testing

@Suite struct AuditTrailTests {
    static func append(_ count: Int, tenant: TenantID, database: any Database, start: Date = Date()) async throws {
        for index in 0..<count {
            _ = try await database.write(tenant: tenant) { tx in
                try await AuditTrail().record(
                    AuditEntry(
                        action: "thing.updated", actor: .init(kind: "user", id: "u\(index % 3)", name: "User é"),
                        targetType: "thing", targetID: "t\(index)", ip: "192.0.2.1", requestID: "r\(index)",
                        changes: ["name": .init(before: .string("a\(index)"), after: .string("b\(index)"))],
                        details: ["n": .integer(Int64(index))]),
                    in: tx, at: start.addingTimeInterval(Double(index)))
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
            #expect(records.map(\.sequence) == [2, 1])
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
            try await Self.append(6, tenant: tenant, database: database, start: start)
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
            #expect(result.problems.contains("records 4...4 are missing"))
            #expect(result.problems.contains("record 5 does not link to record 4"))
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
