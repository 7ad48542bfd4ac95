import Crypto
import Foundation

/// One numbered, append-only schema change owned by one module. Statements may differ per dialect (column
/// types, row-level security); the checksum covers the statements of the dialect being migrated.
public struct Migration: Sendable {
    public let module: String
    public let number: Int
    public let name: String
    private let makeStatements: @Sendable (DatabaseDialect) -> [String]

    public init(
        module: String, number: Int, name: String, statements: @escaping @Sendable (DatabaseDialect) -> [String]
    ) {
        self.module = module
        self.number = number
        self.name = name
        self.makeStatements = statements
    }

    public func statements(for dialect: DatabaseDialect) -> [String] { makeStatements(dialect) }

    /// SHA-256 (hex) of the statements for `dialect`: start-up refuses to run if an applied migration changed.
    public func checksum(for dialect: DatabaseDialect) -> String {
        let text = statements(for: dialect).joined(separator: "\n;\n")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `module#number name`, as logs and `inopsio migrate --status` show it.
    public var label: String { "\(module)#\(number) \(name)" }
}

/// Statements that put a tenant-owned table behind row-level security on PostgreSQL (nothing on SQLite).
///
/// `FORCE` makes the policy apply to the table owner too, which is the role the application usually runs as.
/// A transaction without `app.tenant_id` (a system transaction) sees no rows at all; there is deliberately no
/// bypass setting. Cross-tenant maintenance, when a later module needs it, gets its own `BYPASSRLS` role.
public enum TenantIsolation {
    public static func statements(table: String, dialect: DatabaseDialect) -> [String] {
        guard dialect == .postgres else { return [] }
        let predicate = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
        return [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
            "CREATE POLICY \(table)_tenant_isolation ON \(table) USING (\(predicate)) WITH CHECK (\(predicate))",
        ]
    }
}
