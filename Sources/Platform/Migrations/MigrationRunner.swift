import Foundation
import Kernel
import Logging
import SQLKit

/// Applies migrations in order, once, recording each with its checksum in `inopsio_migrations`.
///
/// All pending migrations run in one system transaction that first takes the migration lock
/// (`pg_advisory_xact_lock` on PostgreSQL, SQLite's write lock via `BEGIN IMMEDIATE`), so several processes
/// starting at once apply each migration exactly once: the later ones wait, then find nothing left to do.
package struct MigrationRunner: Sendable {
    /// An arbitrary, fixed advisory-lock key ("inopsio" in ASCII) shared by every Inopsio process.
    static let advisoryLockKey: Int64 = 0x696E_6F70_7369_6F
    package let database: any Database
    package let migrations: [Migration]
    let logger: Logger
    let services: MigrationServices

    /// Validates numbering: per module, numbers are 1, 2, 3, ... without gaps or duplicates.
    package init(
        database: any Database, migrations: [Migration], logger: Logger, services: MigrationServices = .init()
    ) throws {
        try Self.validateNumbering(migrations)
        self.database = database
        self.migrations = migrations
        self.logger = logger
        self.services = services
    }

    /// Per module, migration numbers must be 1, 2, 3, ... in order, without gaps or duplicates.
    package static func validateNumbering(_ migrations: [Migration]) throws {
        var numbers: [String: [Int]] = [:]
        for migration in migrations { numbers[migration.module, default: []].append(migration.number) }
        for (module, list) in numbers where list != Array(1...list.count) {
            throw MigrationError.badNumbering(module: module, numbers: list)
        }
    }

    /// Applies what is pending and returns the labels of the migrations this call applied.
    @discardableResult
    package func apply() async throws -> [String] {
        let migrations = self.migrations
        let logger = self.logger
        let services = self.services
        return try await database.system { tx in
            if tx.dialect == .postgres {
                try await tx.sql.raw("SELECT pg_advisory_xact_lock(\(bind: MigrationRunner.advisoryLockKey))").run()
            }
            try await MigrationRunner.createLedger(tx)
            let applied = try await MigrationRunner.appliedChecksums(tx)
            try MigrationRunner.verify(migrations, against: applied, dialect: tx.dialect)
            var done: [String] = []
            for migration in migrations where applied[MigrationKey(migration)] == nil {
                for statement in migration.statements(for: tx.dialect) {
                    try await tx.sql.raw(SQLQueryString(statement)).run()
                }
                try await migration.step?(tx, services)
                try await tx.sql.raw(
                    """
                    INSERT INTO inopsio_migrations (module, number, name, checksum, applied_at)
                    VALUES (\(bind: migration.module), \(bind: migration.number), \(bind: migration.name),
                            \(bind: migration.checksum(for: tx.dialect)), \(bind: Date().epochMilliseconds))
                    """
                ).run()
                logger.info("applied migration", metadata: ["migration": "\(migration.label)"])
                done.append(migration.label)
            }
            return done
        }
    }

    /// Each known migration with whether it is applied; throws if an applied one changed.
    package func status() async throws -> [MigrationStatus] {
        let migrations = self.migrations
        return try await database.systemRead { tx in
            let applied = try await MigrationRunner.tableExists(tx) ? MigrationRunner.appliedChecksums(tx) : [:]
            try MigrationRunner.verify(migrations, against: applied, dialect: tx.dialect)
            return migrations.map { MigrationStatus(label: $0.label, applied: applied[MigrationKey($0)] != nil) }
        }
    }

    /// The number of known migrations not yet applied (used by `/ready`).
    package func pendingCount() async throws -> Int {
        try await status().filter { !$0.applied }.count
    }

    static func tableExists(_ tx: Transaction) async throws -> Bool {
        let query: SQLQueryString =
            tx.dialect == .postgres
            ? "SELECT COUNT(*) AS n FROM pg_catalog.pg_tables WHERE tablename = 'inopsio_migrations' AND schemaname = current_schema()"
            : "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'inopsio_migrations'"
        let count = try await tx.sql.raw(query).first(decodingColumn: "n", as: Int.self) ?? 0
        return count > 0
    }

    static func createLedger(_ tx: Transaction) async throws {
        try await tx.sql.raw(
            """
            CREATE TABLE IF NOT EXISTS inopsio_migrations (
                module TEXT NOT NULL,
                number INTEGER NOT NULL,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at BIGINT NOT NULL,
                PRIMARY KEY (module, number)
            )
            """
        ).run()
    }

    static func appliedChecksums(_ tx: Transaction) async throws -> [MigrationKey: String] {
        let rows = try await tx.sql.raw("SELECT module, number, checksum FROM inopsio_migrations").all()
        var result: [MigrationKey: String] = [:]
        for row in rows {
            let key = MigrationKey(
                module: try row.decode(column: "module", as: String.self),
                number: try row.decode(column: "number", as: Int.self))
            result[key] = try row.decode(column: "checksum", as: String.self)
        }
        return result
    }

    static func verify(_ migrations: [Migration], against applied: [MigrationKey: String], dialect: DatabaseDialect)
        throws
    {
        for migration in migrations {
            if let checksum = applied[MigrationKey(migration)], checksum != migration.checksum(for: dialect) {
                throw MigrationError.checksumMismatch(label: migration.label)
            }
        }
    }
}

/// A migration's identity in the ledger: owning module and number.
struct MigrationKey: Hashable {
    let module: String
    let number: Int

    init(module: String, number: Int) {
        self.module = module
        self.number = number
    }

    init(_ migration: Migration) {
        self.init(module: migration.module, number: migration.number)
    }
}
