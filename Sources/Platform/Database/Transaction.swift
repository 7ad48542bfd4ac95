import Foundation
import Kernel
import SQLKit
import Synchronization

/// One open transaction. Values are bound, never spliced into SQL text.
package struct Transaction: Sendable {
    package let sql: any SQLDatabase
    package let dialect: DatabaseDialect
    /// The tenant this transaction is scoped to, `nil` for a system transaction.
    package let tenant: TenantID?
    /// What to do once the transaction has committed (nil where the database keeps no such list).
    let afterCommit: AfterCommit?
    /// The PostgreSQL connection under `sql`, for statements that skip SQLKit (`rows`).
    let postgres: PostgresAccess?

    package init(sql: any SQLDatabase, dialect: DatabaseDialect, tenant: TenantID?) {
        self.init(sql: sql, dialect: dialect, tenant: tenant, afterCommit: nil, postgres: nil)
    }

    init(
        sql: any SQLDatabase, dialect: DatabaseDialect, tenant: TenantID?, afterCommit: AfterCommit?,
        postgres: PostgresAccess? = nil
    ) {
        self.sql = sql
        self.dialect = dialect
        self.tenant = tenant
        self.afterCommit = afterCommit
        self.postgres = postgres
    }

    /// The same transaction, scoped to `tenant` for what the caller hands it to (the caller has set the
    /// database's tenant setting to match).
    package func scoped(to tenant: TenantID) -> Transaction {
        Transaction(sql: sql, dialect: dialect, tenant: tenant, afterCommit: afterCommit, postgres: postgres)
    }

    /// Sends a PostgreSQL notification when (and only if) the transaction commits. Sent after the commit, by one
    /// sender per process that folds together equal notifications asked for meanwhile, rather than by
    /// `pg_notify` inside the transaction: PostgreSQL serialises the commits of transactions that notify (each
    /// holds the notification queue's lock through its commit and its WAL flush), which capped concurrent
    /// writers at one commit at a time. The notification is a wake-up hint for listeners that also poll; a
    /// process that dies between the commit and the send loses only the hint. Nothing on SQLite.
    package func notifyAfterCommit(channel: String, payload: String) async throws {
        guard dialect == .postgres else { return }
        if let afterCommit {
            afterCommit.notify(channel: channel, payload: payload)
        } else {
            try await sql.raw("SELECT pg_notify(\(bind: channel), \(bind: payload))").run()
        }
    }

    /// A bind for a UUID in the form this engine stores it (native `uuid`, or lower-case text on SQLite).
    package func bind(_ uuid: UUID) -> any SQLExpression {
        switch dialect {
        case .postgres: SQLBind(uuid)
        case .sqlite: SQLBind(uuid.lowercasedString)
        }
    }

    /// A bind for a tenant id.
    package func bind(_ tenant: TenantID) -> any SQLExpression { bind(tenant.rawValue) }

    /// The tenant this transaction is scoped to; a programming error to ask in a system transaction.
    package func requireTenant() throws -> TenantID {
        guard let tenant else { throw DatabaseError.notTenantScoped }
        return tenant
    }
}

/// The notifications a PostgreSQL transaction asks to send once it has committed.
final class AfterCommit: Sendable {
    struct Notification: Hashable, Sendable {
        let channel: String
        let payload: String
    }

    private let pending = Mutex<Set<Notification>>([])

    func notify(channel: String, payload: String) {
        _ = pending.withLock { $0.insert(Notification(channel: channel, payload: payload)) }
    }

    var notifications: Set<Notification> { pending.withLock { $0 } }
}
