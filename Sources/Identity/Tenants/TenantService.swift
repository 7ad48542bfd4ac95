import Foundation
import Kernel
import Platform

/// The caller's tenant and its settings, for the API and the admin pages.
struct TenantService: Sendable {
    let services: IdentityServices

    /// The tenant with its settings, as one JSON object.
    struct View: Encodable {
        let tenant: Tenant
        let settings: TenantSettings

        func encode(to encoder: any Encoder) throws {
            try tenant.encode(to: encoder)
            try settings.encode(to: encoder)
        }
    }

    /// What may change (the JSON body of `PATCH /tenant`; absent fields stay).
    struct Input: JSONRequestBody {
        let name: String?
        let locale: String?
        let timeZone: String?
        let themeColour: String?
        let enabledModules: [String]?
        let mfaRequiredRoles: [String]?
        let auditRetentionDays: Int?
        static let fieldNames: Set<String> = [
            "name", "locale", "time_zone", "theme_colour", "enabled_modules", "mfa_required_roles",
            "audit_retention_days",
        ]
        enum CodingKeys: String, CodingKey {
            case name, locale
            case timeZone = "time_zone"
            case themeColour = "theme_colour"
            case enabledModules = "enabled_modules"
            case mfaRequiredRoles = "mfa_required_roles"
            case auditRetentionDays = "audit_retention_days"
        }
    }

    func find(by caller: Caller) async throws -> View {
        try caller.require(.tenantRead)
        guard let record = try await TenantStore(database: services.database).find(id: caller.tenant) else {
            throw DomainError.notFound(entity: "tenant")
        }
        let settings = try await services.database.read(tenant: caller.tenant) { tx in
            try await TenantSettingsStore().load(in: tx)
        }
        return View(tenant: record, settings: settings)
    }

    /// Changes the tenant's name and settings; audited with the changed fields (nothing when nothing changed).
    func update(_ body: Input, by caller: Caller) async throws -> View {
        try caller.require(.tenantWrite)
        let tenantID = caller.tenant
        guard let tenant = try await TenantStore(database: services.database).find(id: tenantID) else {
            throw DomainError.notFound(entity: "tenant")
        }
        var validation = Validation()
        if let name = body.name {
            validation.add(
                TenantRules.validate(slug: tenant.slug, name: name, plan: tenant.plan).filter { $0.field == "name" })
        }
        let roles = try await services.permissions.roleNames(tenant: tenantID)
        let now = services.clock.now()
        let modules = services.moduleNames
        let preliminary = validation
        let (updatedTenant, settings) = try await services.database.write(tenant: tenantID) { tx in
            let store = TenantSettingsStore()
            let before = try await store.load(in: tx)
            var settings = before
            if let value = body.locale { settings.locale = value }
            if let value = body.timeZone { settings.timeZone = value }
            if let value = body.themeColour { settings.themeColour = value.lowercased() }
            if let value = body.enabledModules { settings.enabledModules = value }
            if let value = body.mfaRequiredRoles { settings.mfaRequiredRoles = value }
            if let value = body.auditRetentionDays { settings.auditRetentionDays = value }
            var validation = preliminary
            validation.add(settings.issues(modules: modules, roles: roles))
            try validation.check()
            try await store.save(settings, now: now, in: tx)
            var beforeSnapshot = before.auditSnapshot
            var afterSnapshot = settings.auditSnapshot
            var updatedTenant = tenant
            if let name = body.name, name != tenant.name {
                try await TenantStore.rename(tenantID, to: name, in: tx)
                beforeSnapshot["name"] = .string(tenant.name)
                afterSnapshot["name"] = .string(name)
                updatedTenant = Tenant(
                    id: tenant.id, slug: tenant.slug, name: name, status: tenant.status, plan: tenant.plan,
                    createdAt: tenant.createdAt)
            }
            let changes = AuditEntry.changes(before: beforeSnapshot, after: afterSnapshot)
            if !changes.isEmpty {
                try await AuditTrail().record(
                    caller.audit(
                        "tenant.updated", targetType: "tenant", targetID: tenantID.description, changes: changes),
                    in: tx, at: now)
            }
            return (updatedTenant, settings)
        }
        return View(tenant: updatedTenant, settings: settings)
    }
}
