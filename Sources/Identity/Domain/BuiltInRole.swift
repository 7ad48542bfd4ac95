import Kernel

/// The roles every tenant has. Their permissions are computed from the permissions the running modules declare,
/// so a module added later is covered without a migration.
package enum BuiltInRole: String, CaseIterable, Sendable {
    /// Everything, including identity administration.
    case tenantAdmin = "tenant-admin"
    /// Every business module in full, and reading users; no identity administration.
    case manager
    /// Reading and writing business records; no deletes, no administration.
    case user
    /// Reading everything, including the audit log; changing nothing.
    case auditor
    /// Everything in the security module, and reading users and the audit log.
    case securityAnalyst = "security-analyst"

    /// The permissions of this role among `all` (every permission the process's modules declare).
    package func permissions(among all: [Permission]) -> Set<Permission> {
        let isIdentity = { (permission: Permission) in permission.resource.hasPrefix("identity.") }
        let isSecurity = { (permission: Permission) in permission.resource.hasPrefix("security.") }
        switch self {
        case .tenantAdmin:
            return Set(all)
        case .manager:
            return Set(all.filter { !isIdentity($0) && !isSecurity($0) }).union([.usersRead])
        case .user:
            return Set(all.filter { !isIdentity($0) && !isSecurity($0) && ["read", "write"].contains($0.action) })
        case .auditor:
            return Set(all.filter { $0.action == "read" })
        case .securityAnalyst:
            return Set(all.filter(isSecurity)).union([.usersRead, .auditRead])
        }
    }
}
