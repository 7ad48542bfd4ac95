import Foundation
import Kernel
import SQLKit

/// The two SQL engines Inopsio runs on. The same SQL runs on both except for the few column types below.
public enum DatabaseDialect: String, Sendable {
    case sqlite
    case postgres

    /// Column type for UUIDs: native on PostgreSQL, canonical lower-case text on SQLite.
    public var uuidType: String { self == .postgres ? "UUID" : "TEXT" }
    /// Column type for JSON documents.
    public var jsonType: String { self == .postgres ? "JSONB" : "TEXT" }
    /// Timestamps are stored as epoch milliseconds on both engines, so they round-trip exactly.
    public var timestampType: String { "BIGINT" }
}

/// A database the platform can run transactions on. Every repository goes through one of these calls;
/// none hands out a bare connection.
public protocol Database: Sendable {
    var dialect: DatabaseDialect { get }

    /// Runs `body` in a read-write transaction scoped to `tenant`. On PostgreSQL the transaction sets
    /// `app.tenant_id`, so row-level security hides every other tenant's rows even from a query that forgets
    /// its `WHERE tenant_id`.
    func write<T: Sendable>(tenant: TenantID, _ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// Runs `body` in a read-only transaction scoped to `tenant` (on SQLite, on a reader connection).
    func read<T: Sendable>(tenant: TenantID, _ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// Runs `body` in a read-write transaction that is not scoped to one tenant: for platform tables (`tenants`,
    /// migrations) only. On PostgreSQL it sees no rows of tenant-owned tables (row-level security); on SQLite it
    /// would, so code must not rely on either.
    func system<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// The read-only form of `system` (on SQLite it runs on a reader, never queueing behind writes).
    func systemRead<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// Runs single read statements in autocommit mode, without a transaction and without a tenant: the cheapest
    /// way to read a platform table (one round trip per statement). Used by `/ready`.
    func readOutsideTransaction<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// Checks that the database answers a trivial query.
    func ping() async throws

    /// Closes every connection; the value must not be used afterwards.
    func close() async
}

/// One open transaction. Values are bound, never spliced into SQL text.
public struct Transaction: Sendable {
    public let sql: any SQLDatabase
    public let dialect: DatabaseDialect
    /// The tenant this transaction is scoped to, `nil` for a system transaction.
    public let tenant: TenantID?

    package init(sql: any SQLDatabase, dialect: DatabaseDialect, tenant: TenantID?) {
        self.sql = sql
        self.dialect = dialect
        self.tenant = tenant
    }

    /// A bind for a UUID in the form this engine stores it (native `uuid`, or lower-case text on SQLite).
    public func bind(_ uuid: UUID) -> any SQLExpression {
        switch dialect {
        case .postgres: SQLBind(uuid)
        case .sqlite: SQLBind(uuid.lowercasedString)
        }
    }

    /// A bind for a tenant id.
    public func bind(_ tenant: TenantID) -> any SQLExpression { bind(tenant.rawValue) }

    /// The tenant this transaction is scoped to; a programming error to ask in a system transaction.
    public func requireTenant() throws -> TenantID {
        guard let tenant else { throw DatabaseError.notTenantScoped }
        return tenant
    }
}

/// Failures of the database layer itself (not of a query).
public enum DatabaseError: Error, CustomStringConvertible, Sendable {
    case notTenantScoped
    case closed
    case invalidURL(String)
    case unsupportedScheme(String)

    public var description: String {
        switch self {
        case .notTenantScoped: "a tenant-scoped call was made in a system transaction"
        case .closed: "the database has been closed"
        case .invalidURL(let reason): "invalid database URL: \(reason)"
        case .unsupportedScheme(let scheme): "unsupported database URL scheme \(scheme) (use postgres:// or sqlite://)"
        }
    }
}

extension SQLRow {
    /// Decodes a UUID column stored natively (PostgreSQL) or as text (SQLite).
    public func decodeUUID(column: String) throws -> UUID {
        if let text = try? decode(column: column, as: String.self) {
            guard let uuid = UUID(uuidString: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(column) is not a UUID"))
            }
            return uuid
        }
        return try decode(column: column, as: UUID.self)
    }
}
