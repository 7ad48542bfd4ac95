import Foundation
import Kernel
import SQLKit

/// A database the platform can run transactions on. Every repository goes through one of these calls;
/// none hands out a bare connection.
package protocol Database: Sendable {
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

    /// Runs one statement that writes, as its own transaction (PostgreSQL autocommit: no `BEGIN` and `COMMIT`
    /// round trips), without a tenant. On SQLite it is a `system` transaction.
    func writeOutsideTransaction<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// Checks that the database answers a trivial query.
    func ping() async throws

    /// Calls `received` with the payload of each notification on `channel` (PostgreSQL `LISTEN`, on a connection
    /// of its own) until the task is cancelled or the connection fails (then it throws). Engines without
    /// notifications return at once: their callers poll.
    func listen(channel: String, received: @escaping @Sendable (String) -> Void) async throws

    /// Closes every connection; the value must not be used afterwards.
    func close() async
}
