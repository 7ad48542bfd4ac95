import Foundation
import Kernel

/// A tenant's own settings, edited by its admins.
package struct TenantSettings: Sendable, Equatable, Codable {
    package var locale: String
    package var timeZone: String
    /// `#rrggbb`, used as the accent colour of the web apps.
    package var themeColour: String
    /// Module names switched on for this tenant (feature flags); an empty list means all.
    package var enabledModules: [String]
    /// Roles whose members must use two-factor sign-in; `*` means everyone.
    package var mfaRequiredRoles: [String]
    /// How long audit records are kept.
    package var auditRetentionDays: Int

    package static let defaults = TenantSettings(
        locale: "en", timeZone: "UTC", themeColour: "#2f6fed", enabledModules: [], mfaRequiredRoles: [],
        auditRetentionDays: 365)

    enum CodingKeys: String, CodingKey {
        case locale
        case timeZone = "time_zone"
        case themeColour = "theme_colour"
        case enabledModules = "enabled_modules"
        case mfaRequiredRoles = "mfa_required_roles"
        case auditRetentionDays = "audit_retention_days"
    }

    /// Whether a user with `roles` must sign in with a second factor.
    func requiresMFA(roles: [String]) -> Bool {
        mfaRequiredRoles.contains("*") || !Set(mfaRequiredRoles).isDisjoint(with: roles)
    }

    /// Validation issues against the known module and role names.
    func issues(modules: [String], roles: Set<String>) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        if let issue = UserRules.localeIssue(locale) { issues.append(issue) }
        if let issue = UserRules.timeZoneIssue(timeZone) { issues.append(issue) }
        let hex = themeColour.dropFirst()
        if !(themeColour.first == "#" && hex.count == 6 && hex.allSatisfy(\.isHexDigit)) {
            issues.append(FieldIssue(field: "theme_colour", code: "invalid_format", message: "a colour like #2f6fed"))
        }
        for name in enabledModules where !modules.contains(name) {
            issues.append(
                FieldIssue(
                    field: "enabled_modules", code: "invalid_value",
                    message: "\(name) is not a module; known: \(modules.joined(separator: ", "))"))
        }
        for role in mfaRequiredRoles where role != "*" && !roles.contains(role) {
            issues.append(FieldIssue(field: "mfa_required_roles", code: "invalid_value", message: "no role \(role)"))
        }
        if !(30...3650).contains(auditRetentionDays) {
            issues.append(
                FieldIssue(field: "audit_retention_days", code: "out_of_range", message: "from 30 to 3650 days"))
        }
        return issues
    }

    /// The snapshot the audit log compares.
    var auditSnapshot: [String: JSONValue] {
        [
            "locale": .string(locale), "time_zone": .string(timeZone), "theme_colour": .string(themeColour),
            "enabled_modules": .array(enabledModules.map(JSONValue.string)),
            "mfa_required_roles": .array(mfaRequiredRoles.map(JSONValue.string)),
            "audit_retention_days": .integer(Int64(auditRetentionDays)),
        ]
    }
}
