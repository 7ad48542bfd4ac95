import Foundation
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@Suite struct MigrationRunnerTests {
    static func notes(body: String = "TEXT") -> Migration {
        Migration(module: "notes", number: 1, name: "create_notes") { dialect in
            [
                "CREATE TABLE notes (tenant_id \(dialect.uuidType) NOT NULL, id INTEGER NOT NULL, body \(body) NOT NULL, PRIMARY KEY (tenant_id, id))"
            ]
        }
    }

    @Test(arguments: TestBackend.available)
    func appliesEachMigrationOnceAndRecordsIt(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let runner = try MigrationRunner(
                database: database, migrations: PlatformMigrations.all + [Self.notes()], logger: TestEnvironment.logger)
            #expect(try await runner.apply() == ["notes#1 create_notes"])
            #expect(try await runner.apply() == [])
            #expect(try await runner.status().allSatisfy(\.applied))
            #expect(try await runner.pendingCount() == 0)
        }
    }

    @Test(arguments: TestBackend.available)
    func refusesToStartWhenAnAppliedMigrationChanged(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + [Self.notes()]) { database, _ in
            let changed = try MigrationRunner(
                database: database, migrations: PlatformMigrations.all + [Self.notes(body: "TEXT NULL")],
                logger: TestEnvironment.logger)
            await #expect(throws: MigrationError.checksumMismatch(label: "notes#1 create_notes")) {
                try await changed.apply()
            }
            await #expect(throws: MigrationError.self) { try await changed.status() }
        }
    }

    @Test(arguments: TestBackend.available)
    func failedMigrationLeavesNothingApplied(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let broken = Migration(module: "broken", number: 1, name: "bad_sql") { _ in
                ["CREATE TABLE half_done (id INTEGER)", "THIS IS NOT SQL"]
            }
            let runner = try MigrationRunner(
                database: database, migrations: PlatformMigrations.all + [broken], logger: TestEnvironment.logger)
            await #expect(throws: (any Error).self) { try await runner.apply() }
            #expect(try await runner.pendingCount() == 1)
            // The table from the first statement was rolled back with the failed one.
            let fixed = Migration(module: "broken", number: 1, name: "bad_sql") { _ in
                ["CREATE TABLE half_done (id INTEGER)"]
            }
            let retry = try MigrationRunner(
                database: database, migrations: PlatformMigrations.all + [fixed], logger: TestEnvironment.logger)
            #expect(try await retry.apply() == ["broken#1 bad_sql"])
        }
    }

    @Test func numbersMustStartAtOneWithoutGapsOrDuplicates() {
        let one = Migration(module: "x", number: 1, name: "one") { _ in [] }
        let two = Migration(module: "x", number: 2, name: "two") { _ in [] }
        #expect(throws: MigrationError.badNumbering(module: "x", numbers: [2])) {
            try MigrationRunner.validateNumbering([two])
        }
        #expect(throws: MigrationError.self) { try MigrationRunner.validateNumbering([one, one]) }
        #expect(throws: MigrationError.self) { try MigrationRunner.validateNumbering([two, one]) }
        #expect(throws: Never.self) { try MigrationRunner.validateNumbering([one, two]) }
    }

    @Test(arguments: TestBackend.available)
    func concurrentRunnersApplyEachMigrationExactlyOnce(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrations: []) { database, _ in
            let migrations = PlatformMigrations.all + [Self.notes()]
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await MigrationRunner(
                            database: database, migrations: migrations, logger: TestEnvironment.logger
                        )
                        .apply()
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(
                applied.sorted() == [
                    "notes#1 create_notes", "platform#1 create_tenants", "platform#2 create_audit_log",
                    "platform#3 create_event_backbone", "platform#4 create_jobs", "platform#5 create_job_schedules",
                    "platform#6 audit_log_lanes", "platform#7 create_secret_keys",
                ])
        }
    }
}
