import Foundation
import Kernel
import Platform
import SQLKit

/// Identity providers, the links between provider subjects and users, and the short-lived sign-in states.
/// Client secrets are stored sealed (`IdentitySecrets.providerClientSecret`).
struct ProviderStore: Sendable {
    let secrets: SecretBox

    func insert(_ provider: IdentityProvider, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let sealedSecret = try provider.clientSecret.map {
            try secrets.seal($0, in: IdentitySecrets.providerClientSecret, tenant: tenant)
        }
        let encoder = JSONEncoder()
        func json(_ value: some Encodable) throws -> String {
            String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        try await tx.sql.raw(
            """
            INSERT INTO identity_providers (tenant_id, id, kind, name, issuer, client_id, client_secret, scopes, role_rules,
                                            default_roles, create_users, sync_roles, enabled, created_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(provider.id.rawValue)), \(bind: provider.kind.rawValue),
                    \(bind: provider.name), \(bind: provider.issuer),
                    \(bind: provider.clientID), \(bind: sealedSecret), \(bind: try json(provider.scopes)),
                    \(bind: try json(provider.roleRules)), \(bind: try json(provider.defaultRoles)),
                    \(bind: provider.createUsers), \(bind: provider.syncRoles), \(bind: provider.enabled),
                    \(bind: provider.createdAt.epochMilliseconds))
            """
        ).run()
    }

    func list(in tx: Transaction) async throws -> [IdentityProvider] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_providers WHERE tenant_id = \(tx.bind(tenant)) ORDER BY created_at, id"
        ).all().map { try decode($0, tenant: tenant) }
    }

    func find(id: ID<IdentityProvider>, in tx: Transaction) async throws -> IdentityProvider? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_providers WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map { try decode($0, tenant: tenant) }
    }

    func delete(id: ID<IdentityProvider>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            DELETE FROM identity_external_accounts WHERE tenant_id = \(tx.bind(tenant)) AND provider_id = \(tx.bind(id.rawValue))
            """
        ).run()
        return try await tx.sql.raw(
            """
            DELETE FROM identity_providers WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue)) RETURNING id
            """
        ).first() != nil
    }

    /// The user linked to a provider's subject.
    func linkedUser(provider: ID<IdentityProvider>, subject: String, in tx: Transaction) async throws -> ID<User>? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT user_id FROM identity_external_accounts
            WHERE tenant_id = \(tx.bind(tenant)) AND provider_id = \(tx.bind(provider.rawValue)) AND subject = \(bind: subject)
            """
        ).first().map { ID(try $0.decodeUUID(column: "user_id")) }
    }

    func link(provider: ID<IdentityProvider>, subject: String, user: ID<User>, now: Date, in tx: Transaction)
        async throws
    {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO identity_external_accounts (tenant_id, provider_id, subject, user_id, created_at, last_login_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(provider.rawValue)), \(bind: subject), \(tx.bind(user.rawValue)),
                    \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            ON CONFLICT (tenant_id, provider_id, subject) DO UPDATE SET last_login_at = excluded.last_login_at
            """
        ).run()
    }

    /// A sign-in in flight at the provider: what to check when it comes back, and the authorization request to
    /// resume. Ten minutes, single use.
    struct State: Sendable {
        let provider: ID<IdentityProvider>
        let nonce: String
        let verifier: String
        let authorizeParameters: [String: String]
    }

    func saveState(_ state: State, now: Date, in tx: Transaction) async throws -> String {
        let tenant = try tx.requireTenant()
        let token = "inopf_" + Base64URL.randomToken()
        let hash = SessionStore.hash(token)
        let parameters = String(decoding: try JSONEncoder().encode(state.authorizeParameters), as: UTF8.self)
        try await tx.sql.raw(
            """
            INSERT INTO identity_federation_states (tenant_id, state_hash, provider_id, nonce, code_verifier,
                                                    authorize_parameters, expires_at)
            VALUES (\(tx.bind(tenant)), \(bind: hash), \(tx.bind(state.provider.rawValue)), \(bind: state.nonce),
                    \(bind: state.verifier), \(bind: parameters), \(bind: now.addingTimeInterval(600).epochMilliseconds))
            """
        ).run()
        try await CredentialIndex().insert(hash: hash, kind: "federation_state", in: tx)
        return token
    }

    func consumeState(_ token: String, now: Date, in tx: Transaction) async throws -> State? {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                """
                UPDATE identity_federation_states SET used_at = \(bind: now.epochMilliseconds)
                WHERE tenant_id = \(tx.bind(tenant)) AND state_hash = \(bind: SessionStore.hash(token))
                  AND used_at IS NULL AND expires_at > \(bind: now.epochMilliseconds)
                RETURNING provider_id, nonce, code_verifier, authorize_parameters
                """
            ).first()
        else { return nil }
        let parameters = try JSONDecoder().decode(
            [String: String].self, from: Data(try row.decode(column: "authorize_parameters", as: String.self).utf8))
        return State(
            provider: ID(try row.decodeUUID(column: "provider_id")),
            nonce: try row.decode(column: "nonce", as: String.self),
            verifier: try row.decode(column: "code_verifier", as: String.self), authorizeParameters: parameters)
    }

    func decode(_ row: any SQLRow, tenant: TenantID) throws -> IdentityProvider {
        let decoder = JSONDecoder()
        func list<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
            try decoder.decode(T.self, from: Data(try row.decode(column: column, as: String.self).utf8))
        }
        return IdentityProvider(
            id: ID(try row.decodeUUID(column: "id")),
            kind: IdentityProvider.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .oidc,
            name: try row.decode(column: "name", as: String.self),
            issuer: try row.decode(column: "issuer", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self),
            clientSecret: try row.decode(column: "client_secret", as: String?.self).map {
                try secrets.open($0, in: IdentitySecrets.providerClientSecret, tenant: tenant)
            },
            scopes: try list("scopes", as: [String].self),
            roleRules: try list("role_rules", as: [IdentityProvider.RoleRule].self),
            defaultRoles: try list("default_roles", as: [String].self),
            createUsers: try row.decode(column: "create_users", as: Bool.self),
            syncRoles: try row.decode(column: "sync_roles", as: Bool.self),
            enabled: try row.decode(column: "enabled", as: Bool.self),
            createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)))
    }
}
