import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import ServiceLifecycle

/// Daily housekeeping of Identity's tables, per tenant: audit records past the tenant's retention (a prefix of the
/// chain, so the rest still verifies), and secrets that can no longer be used (refresh tokens of ended sessions,
/// used or expired codes, links and sign-in states), together with their credential index rows.
package enum IdentityMaintenance {
    /// What one pass removed, summed over tenants.
    package struct Report: Sendable, Equatable {
        package var auditRecords = 0
        package var secrets = 0
        /// Rows of `identity_revoked_sessions` past any access token's lifetime (not per tenant).
        package var revokedSessions = 0
    }

    /// One pass over every tenant.
    package static func run(database: any Database, now: Date) async throws -> Report {
        var report = Report()
        let tenants = TenantStore(database: database)
        var after: String?
        while true {
            let page = try await tenants.list(limit: 200, afterSlug: after)
            for tenant in page {
                let removed = try await database.write(tenant: tenant.id) { tx in try await run(now: now, in: tx) }
                report.auditRecords += removed.auditRecords
                report.secrets += removed.secrets
            }
            guard page.count == 200 else { break }
            after = page.last?.slug
        }
        // A day, like the secrets above: far past the longest access token lifetime.
        report.revokedSessions = try await RevokedSessions.deleteExpired(
            retention: 86_400, now: now, database: database)
        return report
    }

    /// One tenant, inside its transaction.
    static func run(now: Date, in tx: Transaction) async throws -> Report {
        let tenant = try tx.requireTenant()
        let settings = try await TenantSettingsStore().load(in: tx)
        var report = Report()
        report.auditRecords = try await AuditTrail().deleteOlderThan(
            now.addingTimeInterval(-Double(settings.auditRetentionDays) * 86_400), in: tx)
        // A day of grace, so a secret that just expired still answers "expired" rather than "unknown" for a while.
        let cutoff = now.addingTimeInterval(-86_400).epochMilliseconds
        var hashes: [String] = []
        for statement in [
            SQLQueryString(
                """
                DELETE FROM identity_refresh_tokens WHERE tenant_id = \(tx.bind(tenant)) AND session_id IN (
                    SELECT id FROM identity_sessions WHERE tenant_id = \(tx.bind(tenant))
                      AND (expires_at < \(bind: cutoff) OR revoked_at < \(bind: cutoff)))
                RETURNING token_hash
                """),
            SQLQueryString(
                """
                DELETE FROM identity_authorization_codes WHERE tenant_id = \(tx.bind(tenant)) AND expires_at < \(bind: cutoff)
                RETURNING code_hash AS token_hash
                """),
            SQLQueryString(
                """
                DELETE FROM identity_action_tokens WHERE tenant_id = \(tx.bind(tenant))
                  AND (expires_at < \(bind: cutoff) OR used_at < \(bind: cutoff))
                RETURNING token_hash
                """),
            SQLQueryString(
                """
                DELETE FROM identity_federation_states WHERE tenant_id = \(tx.bind(tenant)) AND expires_at < \(bind: cutoff)
                RETURNING state_hash AS token_hash
                """),
        ] {
            hashes += try await tx.sql.raw(statement).all().map { try $0.decode(column: "token_hash", as: String.self) }
        }
        for hash in hashes {
            try await tx.sql.raw(
                "DELETE FROM identity_credentials WHERE token_hash = \(bind: hash) AND tenant_id = \(tx.bind(tenant))"
            ).run()
        }
        report.secrets = hashes.count
        return report
    }
}

/// Runs `IdentityMaintenance` a minute after start-up and then once a day, until graceful shutdown. Several
/// instances may each run it: the deletes are idempotent.
package struct IdentityMaintenanceService: Service {
    let database: any Database
    let clock: any WallClock
    let logger: Logger
    var firstRun: Duration = .seconds(60)
    var interval: Duration = .seconds(24 * 3600)

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await Task.sleep(for: firstRun)
                while true {
                    do {
                        let report = try await IdentityMaintenance.run(database: database, now: clock.now())
                        logger.info(
                            "identity maintenance",
                            metadata: [
                                "audit_records_removed": "\(report.auditRecords)",
                                "secrets_removed": "\(report.secrets)",
                            ])
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.error(
                            "identity maintenance failed", metadata: ["error.message": "\(String(reflecting: error))"])
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}
