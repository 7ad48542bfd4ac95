import Foundation
import Kernel
import Platform
import Synchronization

/// Turns role names into permissions. Built-in roles are computed once from the modules' permissions; custom
/// roles are read from the tenant's table and cached for `ttl` (changes made through this process invalidate at
/// once; other instances see them within `ttl`).
package final class PermissionResolver: Sendable {
    package let catalog: [Permission]
    private let builtIn: [String: Set<Permission>]
    private let database: any Database
    private let clock: any WallClock
    private let ttl: TimeInterval = 30
    private let cache = Mutex<[TenantID: (loadedAt: Date, roles: [String: Set<Permission>])]>([:])

    package init(catalog: [Permission], database: any Database, clock: any WallClock) {
        self.catalog = catalog
        self.database = database
        self.clock = clock
        var builtIn: [String: Set<Permission>] = [:]
        for role in BuiltInRole.allCases { builtIn[role.rawValue] = role.permissions(among: catalog) }
        self.builtIn = builtIn
    }

    package func permissions(tenant: TenantID, roles: [String]) async throws -> Set<Permission> {
        var (result, custom) = builtInPermissions(roles)
        guard !custom.isEmpty else { return result }
        let table = try await customRoles(tenant: tenant)
        for role in custom { result.formUnion(table[role] ?? []) }
        return result
    }

    /// `permissions(tenant:roles:)` without a database read: `nil` when a custom role's table is not cached.
    package func cachedPermissions(tenant: TenantID, roles: [String]) -> Set<Permission>? {
        var (result, custom) = builtInPermissions(roles)
        guard !custom.isEmpty else { return result }
        guard let table = cachedCustomRoles(tenant: tenant, now: clock.now()) else { return nil }
        for role in custom { result.formUnion(table[role] ?? []) }
        return result
    }

    /// The permissions of the built-in roles among `roles`, and the names of the others (custom roles).
    private func builtInPermissions(_ roles: [String]) -> (Set<Permission>, [String]) {
        // The common case, one built-in role: its precomputed set as it is (a union costs a hash per permission).
        if roles.count == 1, let only = builtIn[roles[0]] { return (only, []) }
        var result = Set<Permission>()
        var custom: [String] = []
        for role in roles {
            if let permissions = builtIn[role] { result.formUnion(permissions) } else { custom.append(role) }
        }
        return (result, custom)
    }

    private func cachedCustomRoles(tenant: TenantID, now: Date) -> [String: Set<Permission>]? {
        guard let cached = cache.withLock({ $0[tenant] }), now.timeIntervalSince(cached.loadedAt) < ttl else {
            return nil
        }
        return cached.roles
    }

    /// Every role name the tenant has (built-in and custom).
    func roleNames(tenant: TenantID) async throws -> Set<String> {
        Set(builtIn.keys).union(try await customRoles(tenant: tenant).keys)
    }

    /// Checks that `principal` may hand out `roles`: each must exist (else a validation issue under `field`), and
    /// together they may not grant a permission the principal lacks (else 403), so nobody can promote anyone,
    /// themselves included, above their own rights.
    func checkGrant(_ roles: [String], tenant: TenantID, by principal: Principal, field: String) async throws {
        let known = try await roleNames(tenant: tenant)
        let unknown = roles.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw DomainError.validation(
                unknown.map { FieldIssue(field: field, code: "invalid_value", message: "no role named \($0)") })
        }
        if !(try await permissions(tenant: tenant, roles: roles)).isSubset(of: principal.permissions) {
            throw DomainError.forbidden("you cannot grant roles with permissions you do not hold")
        }
    }

    func invalidate(tenant: TenantID) {
        cache.withLock { _ = $0.removeValue(forKey: tenant) }
    }

    private func customRoles(tenant: TenantID) async throws -> [String: Set<Permission>] {
        let now = clock.now()
        if let cached = cachedCustomRoles(tenant: tenant, now: now) { return cached }
        let roles = try await database.read(tenant: tenant) { tx in try await RoleStore().list(in: tx) }
        var table: [String: Set<Permission>] = [:]
        for role in roles { table[role.name] = Set(role.permissions) }
        cache.withLock { $0[tenant] = (now, table) }
        return table
    }
}
