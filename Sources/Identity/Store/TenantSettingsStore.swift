import Foundation
import Kernel
import Platform
import SQLKit

/// `identity_tenant_settings`: one row per tenant, created at sign-up; a missing row reads as the defaults.
struct TenantSettingsStore: Sendable {
    func load(in tx: Transaction) async throws -> TenantSettings {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                "SELECT * FROM identity_tenant_settings WHERE tenant_id = \(tx.bind(tenant))"
            ).first()
        else { return .defaults }
        let decoder = JSONDecoder()
        return TenantSettings(
            locale: try row.decode(column: "locale", as: String.self),
            timeZone: try row.decode(column: "time_zone", as: String.self),
            themeColour: try row.decode(column: "theme_colour", as: String.self),
            enabledModules: try decoder.decode(
                [String].self, from: Data(try row.decode(column: "enabled_modules", as: String.self).utf8)),
            mfaRequiredRoles: try decoder.decode(
                [String].self, from: Data(try row.decode(column: "mfa_required_roles", as: String.self).utf8)),
            auditRetentionDays: try row.decode(column: "audit_retention_days", as: Int.self))
    }

    func save(_ settings: TenantSettings, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let encoder = JSONEncoder()
        let modules = String(decoding: try encoder.encode(settings.enabledModules), as: UTF8.self)
        let roles = String(decoding: try encoder.encode(settings.mfaRequiredRoles), as: UTF8.self)
        try await tx.sql.raw(
            """
            INSERT INTO identity_tenant_settings (tenant_id, locale, time_zone, theme_colour, enabled_modules,
                                                  mfa_required_roles, audit_retention_days, updated_at)
            VALUES (\(tx.bind(tenant)), \(bind: settings.locale), \(bind: settings.timeZone), \(bind: settings.themeColour),
                    \(bind: modules), \(bind: roles), \(bind: settings.auditRetentionDays), \(bind: now.epochMilliseconds))
            ON CONFLICT (tenant_id) DO UPDATE SET locale = excluded.locale, time_zone = excluded.time_zone,
                theme_colour = excluded.theme_colour, enabled_modules = excluded.enabled_modules,
                mfa_required_roles = excluded.mfa_required_roles,
                audit_retention_days = excluded.audit_retention_days, updated_at = excluded.updated_at
            """
        ).run()
    }
}
