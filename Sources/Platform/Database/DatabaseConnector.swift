import Foundation
import Logging

/// Opens the database a configuration names and keeps it running for exactly the duration of `body`
/// (the PostgreSQL pool's run loop is a child task, cancelled when `body` returns).
package enum DatabaseConnector {
    package static func withDatabase<T: Sendable>(
        configuration: InopsioConfiguration, logger: Logger, _ body: @Sendable (any Database) async throws -> T
    ) async throws -> T {
        if let url = configuration.databaseURL, !url.hasPrefix("sqlite:") {
            let database = try PostgresDatabase(url: url, poolSize: configuration.postgresPoolSize, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                if try await database.roleBypassesRowLevelSecurity() {
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
