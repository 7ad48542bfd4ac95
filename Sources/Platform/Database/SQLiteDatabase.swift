import Foundation
import Kernel
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded database: one SQLite file in WAL mode with a single writer connection (SQLite allows one writer
/// at a time anyway; queueing here avoids `SQLITE_BUSY` storms) and a small pool of read-only connections.
package final class SQLiteDatabase: Database {
    package var dialect: DatabaseDialect { .sqlite }

    private let writer: SQLiteConnection
    private let writerGate = AsyncSemaphore(permits: 1)
    private let readers: [SQLiteConnection]
    private let readerGate: AsyncSemaphore
    private let freeReaders: Mutex<[Int]>
    private let logger: Logger

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.readerGate = AsyncSemaphore(permits: readers.count)
        self.freeReaders = Mutex(Array(readers.indices))
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path` with `readerCount` reader connections.
    package static func open(path: String, readerCount: Int, logger: Logger) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            // WAL lets readers proceed while the writer commits; NORMAL sync is durable across process crashes
            // in WAL mode (only an OS crash can lose the last transactions).
            // The busy timeout comes first: switching to WAL needs a lock another starting process may hold.
            try await writer.sql().raw("PRAGMA busy_timeout = 10000").run()
            try await writer.sql().raw("PRAGMA journal_mode = WAL").run()
            try await configure(writer, readOnly: false)
            var readers: [SQLiteConnection] = []
            for _ in 0..<max(1, readerCount) {
                let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                try await configure(reader, readOnly: true)
                readers.append(reader)
            }
            return SQLiteDatabase(writer: writer, readers: readers, logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
    }

    private static func configure(_ connection: SQLiteConnection, readOnly: Bool) async throws {
        let sql = connection.sql()
        try await sql.raw("PRAGMA foreign_keys = ON").run()
        try await sql.raw("PRAGMA busy_timeout = 10000").run()
        try await sql.raw("PRAGMA synchronous = NORMAL").run()
        if readOnly { try await sql.raw("PRAGMA query_only = ON").run() }
    }

    package func write<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await writeTransaction(tenant: tenant, body)
    }

    package func system<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        try await writeTransaction(tenant: nil, body)
    }

    package func read<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await readTransaction(tenant: tenant, body)
    }

    package func systemRead<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        try await readTransaction(tenant: nil, body)
    }

    package func readOutsideTransaction<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws
        -> T
    {
        try await withReader { sql in try await body(Transaction(sql: sql, dialect: .sqlite, tenant: nil)) }
    }

    package func writeOutsideTransaction<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws
        -> T
    {
        try await system(body)
    }

    /// Lends one reader connection to `body`.
    private func withReader<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await readerGate.acquire()
        defer { readerGate.release() }
        let index = freeReaders.withLock { $0.removeLast() }
        defer { freeReaders.withLock { $0.append(index) } }
        return try await body(readers[index].sql())
    }

    private func readTransaction<T: Sendable>(
        tenant: TenantID?, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await withReader { sql in
            try await Self.inTransaction(sql, begin: "BEGIN", logger: nil) {
                try await body(Transaction(sql: sql, dialect: .sqlite, tenant: tenant))
            }
        }
    }

    /// Runs `body` between `begin` and COMMIT, rolling back if it throws.
    private static func inTransaction<T: Sendable>(
        _ sql: any SQLDatabase, begin: String, logger: Logger?, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await sql.raw(SQLQueryString(begin)).run()
        do {
            let result = try await body()
            try await sql.raw("COMMIT").run()
            return result
        } catch {
            do {
                // In a task of its own: a cancelled caller (a stopping service) must still end its transaction,
                // or the connection would stay inside it and refuse every later BEGIN.
                try await Task { try await sql.raw("ROLLBACK").run() }.value
            } catch {
                logger?.error("rollback failed", metadata: ["error.message": "\(String(reflecting: error))"])
            }
            throw error
        }
    }

    private func writeTransaction<T: Sendable>(
        tenant: TenantID?, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        await writerGate.acquire()
        defer { writerGate.release() }
        let sql = writer.sql()
        // IMMEDIATE takes the write lock up front, so two processes on one file queue instead of deadlocking.
        return try await Self.inTransaction(sql, begin: "BEGIN IMMEDIATE", logger: logger) {
            try await body(Transaction(sql: sql, dialect: .sqlite, tenant: tenant))
        }
    }

    package func ping() async throws {
        try await withReader { sql in
            _ = try await sql.raw("SELECT 1 AS one").first()
        }
    }

    /// SQLite has no notifications (in one process, `Outbox` wakes the relay itself).
    package func listen(channel: String, received: @escaping @Sendable (String) -> Void) async throws {}

    package func close() async {
        await writerGate.acquire()
        for connection in readers + [writer] {
            try? await connection.close()
        }
    }
}
