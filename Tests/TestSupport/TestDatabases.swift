import Foundation
import Kernel
import Logging
import Platform
import PostgresNIO

/// The database engines a store test runs on.
package enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    package var description: String { rawValue }

    /// SQLite always; PostgreSQL when `INOPSIO_TEST_DATABASE_URL` is set (by `scripts/test`), and always under
    /// `CI=true`, where a missing server then fails the test instead of silently skipping it.
    package static var available: [TestBackend] {
        if TestEnvironment.postgresURL != nil || TestEnvironment.isCI { return [.sqlite, .postgres] }
        return [.sqlite]
    }
}

/// What the test environment provides.
package enum TestEnvironment {
    package static var postgresURL: String? { ProcessInfo.processInfo.environment["INOPSIO_TEST_DATABASE_URL"] }
    package static var redisURL: String? { ProcessInfo.processInfo.environment["INOPSIO_TEST_REDIS_URL"] }
    /// The S3 server `scripts/test` starts (moto): `s3+http://key:secret@127.0.0.1:port/bucket`.
    package static var s3URL: String? { ProcessInfo.processInfo.environment["INOPSIO_TEST_S3_URL"] }
    package static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    package static func requirePostgresURL() throws -> String {
        guard let url = postgresURL else { throw TestSetupError.postgresMissing }
        return url
    }

    /// A logger that drops everything below warning, written to standard error.
    package static var logger: Logger {
        var logger = Logger(label: "test") { _ in StreamLogHandler.standardError(label: "test") }
        logger.logLevel = .warning
        return logger
    }
}

package enum TestSetupError: Error, CustomStringConvertible {
    case postgresMissing
    case server(String)

    package var description: String {
        switch self {
        case .postgresMissing:
            "PostgreSQL is required (CI=true) but INOPSIO_TEST_DATABASE_URL is not set: run the tests with scripts/test"
        case .server(let detail): "the test PostgreSQL refused: \(detail)"
        }
    }
}

/// A throwaway database: a fresh SQLite file in a temporary directory, or a fresh PostgreSQL database created
/// from the test server's URL and dropped afterwards. Migrations are applied before `body` runs.
@discardableResult
package func withTestDatabase<T: Sendable>(
    _ backend: TestBackend, migrations: [Migration] = PlatformMigrations.all,
    _ body: @Sendable (any Database, InopsioConfiguration) async throws -> T
) async throws -> T {
    var configuration = InopsioConfiguration()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    configuration.dataDirectory = directory.path
    configuration.postgresPoolSize = 4
    let logger = TestEnvironment.logger
    switch backend {
    case .sqlite:
        let sqliteConfiguration = configuration
        return try await DatabaseConnector.withDatabase(configuration: sqliteConfiguration, logger: logger) {
            database in
            try await MigrationRunner(database: database, migrations: migrations, logger: logger).apply()
            return try await body(database, sqliteConfiguration)
        }
    case .postgres:
        let baseURL = try TestEnvironment.requirePostgresURL()
        let base = configuration
        do {
            return try await withScratchPostgresDatabase(baseURL: baseURL) { url in
                var postgresConfiguration = base
                postgresConfiguration.databaseURL = url
                let resolved = postgresConfiguration
                return try await DatabaseConnector.withDatabase(configuration: resolved, logger: logger) { database in
                    try await MigrationRunner(database: database, migrations: migrations, logger: logger).apply()
                    return try await body(database, resolved)
                }
            }
        } catch  where String(describing: type(of: error)) == "PSQLError" {
            // PostgresNIO's errors hide their details unless reflected.
            throw TestSetupError.server(String(reflecting: error))
        }
    }
}

/// Creates an empty database on the test server, passes its URL to `body`, and drops it afterwards.
package func withScratchPostgresDatabase<T: Sendable>(
    baseURL: String, _ body: @Sendable (String) async throws -> T
) async throws -> T {
    guard var components = URLComponents(string: baseURL) else { throw TestSetupError.postgresMissing }
    let name = "inopsio_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    do {
        try await adminQuery(baseURL: baseURL, "CREATE DATABASE \(name)")
    } catch {
        // PostgresNIO's errors hide their details unless reflected; a failed setup must say why.
        throw TestSetupError.server(String(reflecting: error))
    }
    components.path = "/\(name)"
    let url = components.string!
    do {
        let result = try await body(url)
        await dropScratchDatabase(name, baseURL: baseURL)
        return result
    } catch {
        await dropScratchDatabase(name, baseURL: baseURL)
        // The same for whatever the test did with the database.
        if error is PSQLError { throw TestSetupError.server(String(reflecting: error)) }
        throw error
    }
}

/// Drops a scratch database. An autovacuum worker still in it cannot be ended by the test's ordinary role
/// (`42501`, seen in a full run): that is retried for a while, and a database left behind is only logged, since
/// the whole test cluster is thrown away after the run; it is no failure of the test that used it.
func dropScratchDatabase(_ name: String, baseURL: String) async {
    for attempt in 1...40 {
        do {
            try await adminQuery(baseURL: baseURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return
        } catch {
            if attempt == 40 {
                TestEnvironment.logger.warning(
                    "scratch database left behind", metadata: ["database": "\(name)", "error": "\(String(reflecting: error))"])
                return
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// Runs one statement outside any transaction (CREATE/DROP DATABASE cannot run inside one).
func adminQuery(baseURL: String, _ sql: String) async throws {
    guard let components = URLComponents(string: baseURL), let host = components.host, let user = components.user
    else { throw TestSetupError.postgresMissing }
    let configuration = PostgresConnection.Configuration(
        host: host, port: components.port ?? 5432, username: user, password: components.password,
        database: String(components.path.dropFirst()), tls: .disable)
    let connection = try await PostgresConnection.connect(
        configuration: configuration, id: 1, logger: TestEnvironment.logger)
    do {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
        try await connection.close()
    } catch {
        try? await connection.close()
        throw error
    }
}
