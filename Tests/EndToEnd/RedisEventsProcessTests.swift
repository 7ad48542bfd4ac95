import Foundation
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

/// `inopsio serve` on PostgreSQL, with events over Redis Streams or through the database: other modules'
/// `messaging.email.requested` events reach the Messaging consumer, and a server killed with SIGKILL in the middle
/// (relay and consumers at work) leaves, after its restart, exactly one message per event: none lost, none doubled.
@Suite(.serialized) struct RedisEventsProcessTests {
    static let total = 3_000

    @Test(
        .enabled(
            if: (TestEnvironment.postgresURL != nil && TestEnvironment.redisURL != nil) || TestEnvironment.isCI,
            "needs PostgreSQL and Redis (scripts/test)"), arguments: ["redis", "database"])
    func emailRequestsAreHandledOncePerEventAcrossAConsumerKilledMidBatch(_ transport: String) async throws {
        let redisBase = try #require(TestEnvironment.redisURL, "INOPSIO_TEST_REDIS_URL is not set")
        // A Redis database of its own, so no other test's streams mix in.
        let redisURL = redisBase.hasSuffix("/") ? redisBase + "7" : redisBase + "/7"
        let redis = try RedisClient(
            configuration: try RedisConfiguration(url: redisURL), logger: TestEnvironment.logger)
        defer { Task { await redis.shutdown() } }
        _ = try await redis.send(["FLUSHDB"])
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { url in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-redis-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let environment = [
                "INOPSIO_DATABASE_URL": url, "INOPSIO_REDIS_URL": redisURL, "INOPSIO_DATA_DIR": directory.path,
                "INOPSIO_EVENT_TRANSPORT": transport,
            ]
            let migrate = try InopsioProcess(["migrate"], environment: environment)
            #expect(await migrate.waitForExit() == 0, "\(migrate.stderr)")
            var configuration = InopsioConfiguration()
            configuration.databaseURL = url
            configuration.postgresPoolSize = 4
            try await DatabaseConnector.withDatabase(configuration: configuration, logger: TestEnvironment.logger) {
                database in
                let tenant = try await TenantStore(database: database).create(slug: "streams", name: "Streams").id
                try await database.write(tenant: tenant) { tx in
                    try await tx.sql.raw(
                        """
                        INSERT INTO messaging_templates (tenant_id, id, key, locale, name, subject, text, version,
                                                         created_at, updated_at)
                        VALUES (\(tx.bind(tenant)), \(tx.bind(UUID())), 'hello', 'en', 'Hello', 'Hello {{name}}',
                                'Hi {{name}}', 1, 0, 0)
                        """
                    ).run()
                }
                for start in stride(from: 0, to: Self.total, by: 500) {
                    let entries = try (start..<min(start + 500, Self.total)).map { index in
                        Outbox.Entry(
                            EventEnvelope(
                                source: "/crm", type: "messaging.email.requested", subject: nil, tenant: tenant,
                                traceparent: nil,
                                data: try JSONDocument(
                                    encoding: [
                                        "template": "hello", "to": "user\(index)@example.com", "name": "U\(index)",
                                    ])),
                            aggregateType: "contact", aggregateID: "c\(index % 100)")
                    }
                    try await database.write(tenant: tenant) { tx in try await Outbox.append(entries, in: tx) }
                }
                func messages() async throws -> (rows: Int, distinct: Int) {
                    try await database.read(tenant: tenant) { tx in
                        let row = try await tx.sql.raw(
                            "SELECT COUNT(*) AS n, COUNT(DISTINCT email) AS d FROM messaging_messages"
                        ).first()
                        return (
                            try row?.decode(column: "n", as: Int.self) ?? -1,
                            try row?.decode(column: "d", as: Int.self) ?? -1
                        )
                    }
                }

                let first = try InopsioProcess(["serve", "--port", "0"], environment: environment)
                _ = try await first.waitForPort()
                var seen = try await messages()
                let deadline = ContinuousClock.now + .seconds(180)
                while seen.rows < 200 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    seen = try await messages()
                }
                first.signal(SIGKILL)
                _ = await first.waitForExit()
                let atKill = try await messages()
                #expect(atKill.rows >= 200, "the server was killed before it got going; the test proved less")
                #expect(atKill.rows < Self.total, "the server finished before it was killed; the test proved less")
                #expect(atKill.rows == atKill.distinct)

                let second = try InopsioProcess(["serve", "--port", "0"], environment: environment)
                _ = try await second.waitForPort()
                var final = try await messages()
                let finishBy = ContinuousClock.now + .seconds(240)
                while final.rows < Self.total && ContinuousClock.now < finishBy {
                    try await Task.sleep(for: .milliseconds(100))
                    final = try await messages()
                }
                // A little longer: a doubled event would show up now.
                try await Task.sleep(for: .seconds(2))
                final = try await messages()
                #expect(final.rows == Self.total)
                #expect(final.distinct == Self.total)
                second.signal(SIGTERM)
                #expect(await second.waitForExit() == 0, "\(second.stderr.suffix(2_000))")
            }
            // Over Redis the Messaging group read every event from the streams; through the database, none.
            var read = 0
            for partition in 0..<16 {
                // Through the database the streams may not exist at all (an error reply, no groups).
                let groups = try await redis.pipeline([["XINFO", "GROUPS", "inopsio:events:\(partition)"]])
                for group in groups.first?.array ?? [] {
                    let fields = group.map ?? []
                    guard fields.contains(where: { $0.key.string == "name" && $0.value.string == "messaging" }) else {
                        continue
                    }
                    read += fields.first { $0.key.string == "entries-read" }?.value.int ?? 0
                }
            }
            if transport == "redis" {
                #expect(read >= Self.total)
            } else {
                #expect(read == 0)
            }
        }
    }
}
