import Crypto
import Foundation

/// Statements that put a tenant-owned table behind row-level security on PostgreSQL (nothing on SQLite).
///
/// `FORCE` makes the policy apply to the table owner too, which is the role the application usually runs as.
/// A transaction without `app.tenant_id` (a system transaction) sees no rows at all; there is deliberately no
/// bypass setting. Cross-tenant maintenance, when a later module needs it, gets its own `BYPASSRLS` role.
package enum TenantIsolation {
    package static func statements(table: String, dialect: DatabaseDialect) -> [String] {
        guard dialect == .postgres else { return [] }
        let predicate = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
        return [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
            "CREATE POLICY \(table)_tenant_isolation ON \(table) USING (\(predicate)) WITH CHECK (\(predicate))",
        ]
    }
}
