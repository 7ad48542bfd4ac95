import Foundation
import Logging

/// Opens the database a configuration names and keeps it running for exactly the duration of `body`
/// (the PostgreSQL pool's run loop is a child task, cancelled when `body` returns).
package enum DatabaseConnector {
    package static func withDatabase<T: Sendable>(
        configuration: InopsioConfiguration, logger: Logger, _ body: @Sendable (any Database) async throws -> T
    ) async throws -> T {
        if configuration.usesPostgres, let url = configuration.databaseURL {
            let database = try PostgresDatabase(url: url, poolSize: configuration.postgresPoolSize, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                let timeout = configuration.databaseConnectTimeoutSeconds
                if try await firstAnswer(within: .seconds(timeout), from: database, url: url) {
                    logger.warning(
                        "the database role bypasses row-level security (superuser or BYPASSRLS): tenant isolation relies on WHERE clauses alone; use a non-superuser role"
                    )
                }
                return try await body(database)
            }
        }
        let path = sqlitePath(configuration: configuration)
        let database = try await SQLiteDatabase.open(
            path: path, readerCount: configuration.sqliteReaders, logger: logger)
        do {
            let result = try await body(database)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }

    /// Asks the new pool its first question (whether the role bypasses row-level security), giving up after
    /// `timeout`: the pool itself retries a refused connection forever, which would leave start-up hanging.
    static func firstAnswer(within timeout: Duration, from database: PostgresDatabase, url: String) async throws -> Bool
    {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await database.roleBypassesRowLevelSecurity() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DatabaseError.unreachable(Redaction.redactURL(url), timeout)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// `sqlite:///absolute/path.db` or `sqlite:relative.db` if given, else `<data dir>/inopsio.sqlite`.
    static func sqlitePath(configuration: InopsioConfiguration) -> String {
        if let url = configuration.databaseURL, url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            return path
        }
        return URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("inopsio.sqlite").path
    }
}
