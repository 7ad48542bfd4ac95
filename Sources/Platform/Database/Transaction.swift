import Foundation
import Kernel
import SQLKit

/// One open transaction. Values are bound, never spliced into SQL text.
package struct Transaction: Sendable {
    package let sql: any SQLDatabase
    package let dialect: DatabaseDialect
    /// The tenant this transaction is scoped to, `nil` for a system transaction.
    package let tenant: TenantID?

    package init(sql: any SQLDatabase, dialect: DatabaseDialect, tenant: TenantID?) {
        self.sql = sql
        self.dialect = dialect
        self.tenant = tenant
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
