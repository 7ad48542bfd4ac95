import Foundation
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

/// The relay inside `inopsio serve`, killed with SIGKILL in the middle of handing out a backlog of events: what
/// it had committed stays whole, nothing is lost or doubled, and the restarted server finishes the backlog.
@Suite(.serialized) struct EventRelayProcessTests {
    static let total = 20_000

    /// Writes `total` outbox events, 500 per transaction.
    static func fillOutbox(_ database: any Database, tenant: TenantID) async throws {
        try await database.write(tenant: tenant) { tx in
            try await tx.sql.raw(
                "INSERT INTO event_subscriptions (consumer_group, event_type) VALUES ('e2e', 'test.e2e')"
            ).run()
        }
        for start in stride(from: 0, to: total, by: 500) {
            let entries = try (start..<min(start + 500, total)).map { index in
                Outbox.Entry(
                    EventEnvelope(
                        source: "/e2e", type: "test.e2e", subject: "a\(index % 50)", tenant: tenant,
                        traceparent: nil, data: try JSONDocument(encoding: ["n": index])),
                    aggregateType: "thing", aggregateID: "a\(index % 50)")
            }
            try await database.write(tenant: tenant) { tx in try await Outbox.append(entries, in: tx) }
        }
    }

    static func counts(_ database: any Database) async throws -> (relayed: Int, deliveries: Int, distinct: Int) {
        try await database.systemRead { tx in
            let row = try await tx.sql.raw(
                """
                SELECT (SELECT COUNT(*) FROM event_outbox WHERE relayed_at IS NOT NULL) AS relayed,
                       (SELECT COUNT(*) FROM event_deliveries WHERE consumer_group = 'e2e') AS deliveries,
                       (SELECT COUNT(DISTINCT event_id) FROM event_deliveries WHERE consumer_group = 'e2e')
                           AS distinct_events
                """
            ).first()
            return (
                try row?.decode(column: "relayed", as: Int.self) ?? -1,
                try row?.decode(column: "deliveries", as: Int.self) ?? -1,
                try row?.decode(column: "distinct_events", as: Int.self) ?? -1
            )
        }
    }

    static func run(serverEnvironment: [String: String], configuration: InopsioConfiguration) async throws {
        try await DatabaseConnector.withDatabase(configuration: configuration, logger: TestEnvironment.logger) {
            database in
            try await MigrationRunner(
                database: database, migrations: PlatformMigrations.all, logger: TestEnvironment.logger
            ).apply()
            let tenant = try await TenantStore(database: database).create(slug: "e2e", name: "E2E").id
            try await fillOutbox(database, tenant: tenant)

            let first = try InopsioProcess(["serve", "--port", "0"], environment: serverEnvironment)
            _ = try await first.waitForPort()
            // Killed once the relay is under way and before it is done.
            var seen = try await counts(database)
            let deadline = ContinuousClock.now + .seconds(120)
            while seen.relayed == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
                seen = try await counts(database)
            }
            first.signal(SIGKILL)
            _ = await first.waitForExit()
            let afterKill = try await counts(database)
            #expect(afterKill.relayed < total, "the relay finished before it was killed; the test proved less")
            // Whatever the relay committed is whole: every relayed event has exactly its one delivery to the test's
            // group (the server's own wildcard groups, webhooks and live updates, get theirs too).
            #expect(afterKill.deliveries == afterKill.relayed)
            #expect(afterKill.distinct == afterKill.deliveries)

            let second = try InopsioProcess(["serve", "--port", "0"], environment: serverEnvironment)
            _ = try await second.waitForPort()
            var final = try await counts(database)
            let finishBy = ContinuousClock.now + .seconds(120)
            while final.relayed < total && ContinuousClock.now < finishBy {
                try await Task.sleep(for: .milliseconds(50))
                final = try await counts(database)
            }
            #expect(final.relayed == total)
            #expect(final.deliveries == total)
            #expect(final.distinct == total)
            second.signal(SIGTERM)
            #expect(await second.waitForExit() == 0)
        }
    }

    @Test func deadLettersAreListedAndReplayedFromTheCommandLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-dead-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = InopsioConfiguration()
        configuration.dataDirectory = directory.path
        let eventID = try await DatabaseConnector.withDatabase(
            configuration: configuration, logger: TestEnvironment.logger
        ) { database in
            try await MigrationRunner(
                database: database, migrations: PlatformMigrations.all, logger: TestEnvironment.logger
            ).apply()
            let tenant = try await TenantStore(database: database).create(slug: "e2e", name: "E2E").id
            let event = EventEnvelope(
                source: "/e2e", type: "test.e2e", subject: "a", tenant: tenant, traceparent: nil,
                data: try JSONDocument(encoding: ["n": 1]))
            try await database.write(tenant: tenant) { tx in
                try await Outbox.append(event, aggregateType: "thing", aggregateID: "a", in: tx)
                try await tx.sql.raw(
                    """
                    INSERT INTO event_deliveries (consumer_group, event_id, event_type, aggregate_key, tenant_id,
                        status, attempts, available_at, last_error, dead_at)
                    VALUES ('e2e', \(bind: event.id), 'test.e2e', 'thing:a', \(tx.bind(tenant)), 'dead', 8, 0,
                        'boom', 1700000000000)
                    """
                ).run()
            }
            return event.id
        }
        let environment = ["INOPSIO_DATA_DIR": directory.path]
        let list = try InopsioProcess(["events", "dead-letters"], environment: environment)
        #expect(await list.waitForExit() == 0, "\(list.stderr)")
        #expect(list.stdout.contains("\"event_id\":\"\(eventID)\""))
        #expect(list.stdout.contains("\"last_error\":\"boom\""))
        let replay = try InopsioProcess(["events", "replay", eventID], environment: environment)
        #expect(await replay.waitForExit() == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("1 delivery to try again"))
        let again = try InopsioProcess(["events", "replay", eventID], environment: environment)
        #expect(await again.waitForExit() == 1)
        #expect(again.stderr.contains("no dead letter for event"))
    }

    @Test func jobsAreListedRetriedAndCancelledFromTheCommandLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-jobs-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = InopsioConfiguration()
        configuration.dataDirectory = directory.path
        let (queued, failed) = try await DatabaseConnector.withDatabase(
            configuration: configuration, logger: TestEnvironment.logger
        ) { database in
            try await MigrationRunner(
                database: database, migrations: PlatformMigrations.all, logger: TestEnvironment.logger
            ).apply()
            var later = Jobs.Request(name: "report", payload: try JSONDocument(encoding: ["n": 1]))
            later.delay = .seconds(3_600)
            let request = later
            let queued = try await database.system { tx in try await Jobs.enqueue(request, in: tx) }
            let failed = try await database.system { tx in try await Jobs.enqueue(request, in: tx) }
            try await database.system { tx in
                try await tx.sql.raw(
                    "UPDATE jobs SET status = 'failed', attempts = 5, last_error = 'boom' WHERE id = \(bind: failed)"
                ).run()
            }
            return (try #require(queued), try #require(failed))
        }
        let environment = ["INOPSIO_DATA_DIR": directory.path]
        let list = try InopsioProcess(["jobs", "list", "--status", "failed"], environment: environment)
        #expect(await list.waitForExit() == 0, "\(list.stderr)")
        #expect(list.stdout.contains("\"id\":\"\(failed)\""))
        #expect(list.stdout.contains("\"last_error\":\"boom\""))
        #expect(!list.stdout.contains(queued))
        let retry = try InopsioProcess(["jobs", "retry", failed], environment: environment)
        #expect(await retry.waitForExit() == 0, "\(retry.stderr)")
        let cancel = try InopsioProcess(["jobs", "cancel", queued], environment: environment)
        #expect(await cancel.waitForExit() == 0, "\(cancel.stderr)")
        let again = try InopsioProcess(["jobs", "cancel", queued], environment: environment)
        #expect(await again.waitForExit() == 1)
        let bad = try InopsioProcess(["jobs", "list", "--status", "lost"], environment: environment)
        #expect(await bad.waitForExit() == 2)
        let all = try InopsioProcess(["jobs", "list"], environment: environment)
        #expect(await all.waitForExit() == 0)
        #expect(all.stdout.contains("\"status\":\"cancelled\""))
        #expect(all.stdout.contains("\"status\":\"queued\""))
    }

    @Test func sqliteRelayKilledMidBacklogLosesAndDoublesNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-relay-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = InopsioConfiguration()
        configuration.dataDirectory = directory.path
        try await Self.run(serverEnvironment: ["INOPSIO_DATA_DIR": directory.path], configuration: configuration)
    }

    @Test(.enabled(if: TestEnvironment.postgresURL != nil || TestEnvironment.isCI))
    func postgresRelayKilledMidBacklogLosesAndDoublesNothing() async throws {
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { url in
            var configuration = InopsioConfiguration()
            configuration.databaseURL = url
            configuration.postgresPoolSize = 4
            try await Self.run(serverEnvironment: ["INOPSIO_DATABASE_URL": url], configuration: configuration)
        }
    }
}
