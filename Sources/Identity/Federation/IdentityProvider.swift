import Foundation
import Kernel

/// An external OpenID Connect provider a tenant's users may sign in with (Keycloak, Azure AD / Entra ID, Google,
/// another Inopsio). Users are created on first sign-in when `createUsers` is on, with roles from `roleRules`.
package struct IdentityProvider: Sendable, Equatable, Encodable {
    /// `claim` (a string or a list of strings in the ID token, e.g. `groups`) containing `value` grants `role`.
    package struct RoleRule: Sendable, Equatable, Codable {
        package let claim: String
        package let value: String
        package let role: String
    }

    /// OpenID Connect (discovery, ID tokens), or GitHub's OAuth2 (GitHub.com or GitHub Enterprise Server), which
    /// has no ID token: the user and their verified primary email come from its REST API.
    package enum Kind: String, Sendable, Codable {
        case oidc
        case github
    }

    package let id: ID<IdentityProvider>
    package var kind: Kind
    package var name: String
    /// The issuer exactly as its discovery document states it; for GitHub, the web address (`https://github.com`).
    package var issuer: String
    package var clientID: String
    package var clientSecret: String?
    package var scopes: [String]
    package var roleRules: [RoleRule]
    /// Roles of a new user when no rule matches.
    package var defaultRoles: [String]
    package var createUsers: Bool
    /// Re-apply the rules at every sign-in (roles follow the provider's groups).
    package var syncRoles: Bool
    package var enabled: Bool
    package let createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, name, issuer, scopes, enabled
        case clientID = "client_id"
        case hasSecret = "has_client_secret"
        case roleRules = "role_rules"
        case defaultRoles = "default_roles"
        case createUsers = "create_users"
        case syncRoles = "sync_roles"
        case createdAt = "created_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try container.encode(issuer, forKey: .issuer)
        try container.encode(clientID, forKey: .clientID)
        // The secret is write-only: the API says whether one is set, never what it is.
        try container.encode(clientSecret != nil, forKey: .hasSecret)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(roleRules, forKey: .roleRules)
        try container.encode(defaultRoles, forKey: .defaultRoles)
        try container.encode(createUsers, forKey: .createUsers)
        try container.encode(syncRoles, forKey: .syncRoles)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
    }

    /// GitHub's API root: `api.github.com` for GitHub.com, `<host>/api/v3` for GitHub Enterprise Server.
    var githubAPI: String {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        return base == "https://github.com" ? "https://api.github.com" : base + "/api/v3"
    }

    /// The roles the claims grant (the default roles when no rule matches).
    func roles(for claims: [String: JSONValue]) -> [String] {
        var granted = Set<String>()
        for rule in roleRules {
            switch claims[rule.claim] {
            case .string(let value) where value == rule.value: granted.insert(rule.role)
            case .array(let values) where values.contains(.string(rule.value)): granted.insert(rule.role)
            default: break
            }
        }
        return granted.isEmpty ? defaultRoles.sorted() : granted.sorted()
    }
}
