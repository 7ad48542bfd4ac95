import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// External identity providers of the tenant: add (the discovery document is fetched to check the issuer),
/// list, get, delete.
struct ProviderRoutes: Sendable {
    let services: IdentityServices

    struct CreateBody: JSONRequestBody {
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

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/providers"
        routes.get(RouterPath(base)) { _, context in try await list(context) }
        routes.post(RouterPath(base)) { request, context in try await create(request, context) }
        routes.get("\(base)/{id}") { _, context in try JSONResponse.make(try await find(context)) }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
    }

    func list(_ context: AppRequestContext) async throws -> Response {
        try context.require(.providersRead)
        let tenant = try context.requireTenant()
        let providers = try await services.database.read(tenant: tenant) { tx in
            try await ProviderStore(secrets: services.secrets).list(in: tx)
        }
        return try JSONResponse.make(Page(data: providers, nextCursor: nil))
    }

    private func find(_ context: AppRequestContext) async throws -> IdentityProvider {
        try context.require(.providersRead)
        let tenant = try context.requireTenant()
        let id = try ID<IdentityProvider>.path(context, entity: "identity provider")
        guard
            let provider = try await services.database.read(
                tenant: tenant, { tx in try await ProviderStore(secrets: services.secrets).find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "identity provider") }
        return provider
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(CreateBody.self, from: request, context: context)
        let provider = try await create(body, request, context)
        return try JSONResponse.created(provider, location: "\(IdentityAPI.base)/providers/\(provider.id)")
    }

    func create(_ body: CreateBody, _ request: Request, _ context: AppRequestContext) async throws -> IdentityProvider {
        try context.require(.providersWrite)
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
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
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            try await ProviderStore(secrets: services.secrets).insert(provider, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "identity_provider.created", actor: actor, targetType: "identity_provider",
                    targetID: provider.id.description, ip: origin.ip, requestID: origin.requestID,
                    details: ["name": .string(provider.name), "issuer": .string(provider.issuer)]),
                in: tx, at: now)
        }
        return provider
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.providersWrite)
        let tenant = try context.requireTenant()
        let id = try ID<IdentityProvider>.path(context, entity: "identity provider")
        let now = services.clock.now()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            guard try await ProviderStore(secrets: services.secrets).delete(id: id, in: tx) else {
                throw DomainError.notFound(entity: "identity provider")
            }
            try await AuditTrail().record(
                AuditEntry(
                    action: "identity_provider.deleted", actor: actor, targetType: "identity_provider",
                    targetID: id.description, ip: origin.ip, requestID: origin.requestID),
                in: tx, at: now)
        }
        return JSONResponse.noContent()
    }
}
