import Foundation
import Kernel
import SQLKit

/// Seals what the declared secret columns hold: plaintext left by an earlier version (a migration), or values sealed
/// under keys other than the current one (`inopsio secrets rotate-key`).
///
/// A value is replaced only where it is still the value that was read (`UPDATE ... WHERE column = <old>`), so a
/// server changing the same secret meanwhile (a webhook's secret rotated) wins and nothing it wrote is lost; a
/// later pass re-seals what such a race left behind. Tenant-owned columns are read tenant by tenant, with the
/// tenant set as in every tenant transaction, so row-level security stays on.
package enum SecretResealer {
    /// What a pass did: values re-sealed, and values left because they changed while it ran.
    package struct Report: Sendable, Equatable {
        package var resealed = 0
        package var changedMeanwhile = 0

        package init(resealed: Int = 0, changedMeanwhile: Int = 0) {
            self.resealed = resealed
            self.changedMeanwhile = changedMeanwhile
        }
    }

    /// The migration step: seals every non-null value of `columns`, taken as plaintext, inside the migration's
    /// system transaction. Needs no key when the columns are empty (a new installation).
    package static func sealPlaintext(columns: [SecretColumn], secrets: SecretBox?, in tx: Transaction)
        async throws -> Int
    {
        var sealed = 0
        for column in columns {
            for tenant in try await tenants(of: column, in: tx) {
                try await scope(tx, to: tenant)
                for value in try await values(of: column, tenant: tenant, in: tx) {
                    guard let secrets else {
                        throw SecretError.noKeys("sealing \(column) needs the process's secrets keys")
                    }
                    let new = try secrets.seal(value, in: column, tenant: tenant)
                    sealed += try await replace(value, with: new, in: column, tenant: tenant, tx: tx)
                }
            }
            try await scope(tx, to: nil)
        }
        return sealed
    }

    /// Re-seals under the current key every value of `columns` sealed under another key, in one transaction per
    /// column and tenant, while servers keep running.
    package static func reseal(columns: [SecretColumn], secrets: SecretBox, database: any Database) async throws
        -> Report
    {
        let current = secrets.keyring.current()
        var report = Report()
        for column in columns {
            let tenantList = try await database.system { tx in try await tenants(of: column, in: tx) }
            for tenant in tenantList {
                let body: @Sendable (Transaction) async throws -> Report = { tx in
                    var part = Report()
                    for value in try await values(of: column, tenant: tenant, in: tx)
                    where SecretBox.keyID(of: value) != current.id {
                        let plaintext = try secrets.open(value, in: column, tenant: tenant)
                        let new = try secrets.seal(plaintext, in: column, tenant: tenant, with: current)
                        if try await replace(value, with: new, in: column, tenant: tenant, tx: tx) > 0 {
                            part.resealed += 1
                        } else {
                            part.changedMeanwhile += 1
                        }
                    }
                    return part
                }
                let part =
                    if let tenant { try await database.write(tenant: tenant, body) } else {
                        try await database.system(body)
                    }
                report.resealed += part.resealed
                report.changedMeanwhile += part.changedMeanwhile
            }
        }
        return report
    }

    /// How many values each key id seals, over `columns` (`plaintext` for values not sealed).
    package static func census(columns: [SecretColumn], database: any Database) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for column in columns {
            let tenantList = try await database.systemRead { tx in try await tenants(of: column, in: tx) }
            for tenant in tenantList {
                let body: @Sendable (Transaction) async throws -> [String] = { tx in
                    try await values(of: column, tenant: tenant, in: tx)
                }
                let found =
                    if let tenant { try await database.read(tenant: tenant, body) } else {
                        try await database.systemRead(body)
                    }
                for value in found { counts[SecretBox.keyID(of: value) ?? "plaintext", default: 0] += 1 }
            }
        }
        return counts
    }

    /// `[nil]` for a platform column, else every tenant.
    private static func tenants(of column: SecretColumn, in tx: Transaction) async throws -> [TenantID?] {
        guard column.tenantOwned else { return [nil] }
        return try await tx.sql.raw("SELECT id FROM tenants ORDER BY id").all().map {
            TenantID(try $0.decodeUUID(column: "id"))
        }
    }

    /// Inside a system transaction, scopes the following statements to `tenant` as a tenant transaction would.
    private static func scope(_ tx: Transaction, to tenant: TenantID?) async throws {
        guard tx.dialect == .postgres else { return }
        try await tx.sql.raw("SELECT set_config('app.tenant_id', \(bind: tenant?.description ?? ""), true)").run()
    }

    /// `AND tenant_id = <tenant>` for a tenant's rows (on SQLite nothing else narrows them), else nothing.
    private static func tenantCondition(_ tenant: TenantID?, _ tx: Transaction) -> SQLQueryString {
        tenant.map { "AND tenant_id = \(tx.bind($0))" } ?? ""
    }

    private static func values(of column: SecretColumn, tenant: TenantID?, in tx: Transaction) async throws
        -> [String]
    {
        let name = SQLIdentifier(column.column)
        let rows = try await tx.sql.raw(
            """
            SELECT DISTINCT \(name) AS value FROM \(SQLIdentifier(column.table))
            WHERE \(name) IS NOT NULL \(tenantCondition(tenant, tx))
            """
        ).all()
        return try rows.map { try $0.decode(column: "value", as: String.self) }
    }

    private static func replace(
        _ old: String, with new: String, in column: SecretColumn, tenant: TenantID?, tx: Transaction
    ) async throws -> Int {
        let name = SQLIdentifier(column.column)
        return try await tx.sql.raw(
            """
            UPDATE \(SQLIdentifier(column.table)) SET \(name) = \(bind: new)
            WHERE \(name) = \(bind: old) \(tenantCondition(tenant, tx)) RETURNING 1 AS done
            """
        ).all().count
    }
}
