import Foundation
import Kernel
import Platform

/// The tenant's external identity providers, for the API and the admin pages: add, list, find, delete; audited.
struct ProviderService: Sendable {
    let services: IdentityServices

    /// A provider to add (the JSON body of `POST /providers`).
    struct Input: JSONRequestBody {
        var kind: IdentityProvider.Kind? = nil
        let name: String
        let issuer: String
        let clientID: String
        let clientSecret: String?
        let scopes: [String]?
        let roleRules: [IdentityProvider.RoleRule]?
        let defaultRoles: [String]?
        let createUsers: Bool?
        let syncRoles: Bool?
        static let fieldNames: Set<String> = [
            "kind", "name", "issuer", "client_id", "client_secret", "scopes", "role_rules", "default_roles",
            "create_users",
            "sync_roles",
        ]
        enum CodingKeys: String, CodingKey {
            case kind, name, issuer, scopes
            case clientID = "client_id"
            case clientSecret = "client_secret"
            case roleRules = "role_rules"
            case defaultRoles = "default_roles"
            case createUsers = "create_users"
            case syncRoles = "sync_roles"
        }
    }

    func list(by caller: Caller) async throws -> [IdentityProvider] {
        try caller.require(.providersRead)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await ProviderStore(secrets: services.secrets).list(in: tx)
        }
    }

    func find(_ id: ID<IdentityProvider>, by caller: Caller) async throws -> IdentityProvider {
        try caller.require(.providersRead)
        guard
            let provider = try await services.database.read(
                tenant: caller.tenant, { tx in try await ProviderStore(secrets: services.secrets).find(id: id, in: tx) }
            )
        else { throw DomainError.notFound(entity: "identity provider") }
        return provider
    }

    /// Adds a provider (for OpenID Connect, its discovery document is fetched to check the issuer); the roles it
    /// may grant are at most the caller's.
    func create(_ body: Input, by caller: Caller) async throws -> IdentityProvider {
        try caller.require(.providersWrite)
        let tenant = caller.tenant
        let principal = caller.principal
        var validation = Validation()
        if body.name.trimmingCharacters(in: .whitespaces).isEmpty || body.name.count > 100 {
            validation.add(FieldIssue(field: "name", code: "invalid_length", message: "1 to 100 characters"))
        }
        let issuerURL = URLComponents(string: body.issuer)
        if issuerURL?.scheme == nil || issuerURL?.host == nil || !["https", "http"].contains(issuerURL?.scheme ?? "") {
            validation.add(FieldIssue(field: "issuer", code: "invalid_format", message: "an https URL"))
        }
        if body.clientID.isEmpty {
            validation.add(FieldIssue(field: "client_id", code: "required", message: "is required"))
        }
        let roles = (body.roleRules ?? []).map(\.role) + (body.defaultRoles ?? ["user"])
        try validation.check()
        try await services.permissions.checkGrant(roles, tenant: tenant, by: principal, field: "role_rules")
        let kind = body.kind ?? .oidc
        if kind == .github && body.clientSecret == nil {
            throw DomainError.validation([
                FieldIssue(field: "client_secret", code: "required", message: "GitHub OAuth apps need their secret")
            ])
        }
        if kind == .oidc {
            do { _ = try await UpstreamProvider().metadata(issuer: body.issuer) } catch {
                throw DomainError.validation([
                    FieldIssue(
                        field: "issuer", code: "discovery_failed",
                        message: "\(body.issuer)/.well-known/openid-configuration could not be used: \(error)")
                ])
            }
        }
        let now = services.clock.now()
        let provider = IdentityProvider(
            id: .generate(), kind: kind, name: body.name, issuer: body.issuer, clientID: body.clientID,
            clientSecret: body.clientSecret,
            scopes: body.scopes ?? (kind == .github ? ["read:user", "user:email"] : ["openid", "profile", "email"]),
            roleRules: body.roleRules ?? [], defaultRoles: body.defaultRoles ?? ["user"],
            createUsers: body.createUsers ?? true, syncRoles: body.syncRoles ?? true, enabled: true,
            createdAt: Date(epochMilliseconds: now.epochMilliseconds))
        try await services.database.audited(
            "identity_provider.created", target: "identity_provider", id: { _ in provider.id.description },
            details: { _ in ["name": .string(provider.name), "issuer": .string(provider.issuer)] }, at: now,
            by: caller
        ) { tx in try await ProviderStore(secrets: services.secrets).insert(provider, in: tx) }
        return provider
    }

    func delete(_ id: ID<IdentityProvider>, by caller: Caller) async throws {
        try caller.require(.providersWrite)
        try await services.database.audited(
            "identity_provider.deleted", target: "identity_provider", id: { _ in id.description },
            at: services.clock.now(), by: caller
        ) { tx in
            guard try await ProviderStore(secrets: services.secrets).delete(id: id, in: tx) else {
                throw DomainError.notFound(entity: "identity provider")
            }
        }
    }
}
