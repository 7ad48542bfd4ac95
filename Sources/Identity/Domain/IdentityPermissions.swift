import Kernel

/// The permissions the Identity module checks. Reads are separate from writes so that `auditor` can see
/// everything and change nothing.
extension Permission {
    package static let usersRead: Permission = "identity.users:read"
    package static let usersWrite: Permission = "identity.users:write"
    package static let rolesRead: Permission = "identity.roles:read"
    package static let rolesWrite: Permission = "identity.roles:write"
    package static let apiKeysRead: Permission = "identity.api-keys:read"
    package static let apiKeysWrite: Permission = "identity.api-keys:write"
    package static let oauthClientsRead: Permission = "identity.oauth-clients:read"
    package static let oauthClientsWrite: Permission = "identity.oauth-clients:write"
    package static let providersRead: Permission = "identity.providers:read"
    package static let providersWrite: Permission = "identity.providers:write"
    package static let sessionsRead: Permission = "identity.sessions:read"
    package static let sessionsWrite: Permission = "identity.sessions:write"
    package static let auditRead: Permission = "identity.audit:read"
    package static let tenantRead: Permission = "identity.tenant:read"
    package static let tenantWrite: Permission = "identity.tenant:write"

    /// Every permission of this module, in the order the roles page lists them.
    package static let identityAll: [Permission] = [
        .usersRead, .usersWrite, .rolesRead, .rolesWrite, .apiKeysRead, .apiKeysWrite, .oauthClientsRead,
        .oauthClientsWrite, .providersRead, .providersWrite, .sessionsRead, .sessionsWrite, .auditRead, .tenantRead,
        .tenantWrite,
    ]
}
