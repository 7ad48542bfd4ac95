import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// OAuth clients of the tenant: register (a confidential client's secret is shown once), list, get, revoke.
struct OAuthClientRoutes: Sendable {
    let services: IdentityServices

    struct CreateBody: JSONRequestBody {
        let name: String
        let clientType: OAuthClient.ClientType
        let redirectURIs: [String]?
        let allowedScopes: [String]?
        let grantTypes: [String]?
        static let fieldNames: Set<String> = ["name", "client_type", "redirect_uris", "allowed_scopes", "grant_types"]
        enum CodingKeys: String, CodingKey {
            case name
            case clientType = "client_type"
            case redirectURIs = "redirect_uris"
            case allowedScopes = "allowed_scopes"
            case grantTypes = "grant_types"
        }
    }

    struct Created: Encodable {
        let client: OAuthClient
        let secret: String?

        func encode(to encoder: any Encoder) throws {
            try client.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(secret, forKey: .secret)
        }
        enum CodingKeys: String, CodingKey { case secret = "client_secret" }
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/oauth-clients"
        routes.get(RouterPath(base)) { _, context in try await list(context) }
        routes.post(RouterPath(base)) { request, context in try await create(request, context) }
        routes.get("\(base)/{client_id}") { _, context in try JSONResponse.make(try await find(context)) }
        routes.delete("\(base)/{client_id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await revoke(request, context) }
        }
    }

    func list(_ context: AppRequestContext) async throws -> Response {
        try context.require(.oauthClientsRead)
        let tenant = try context.requireTenant()
        let clients = try await services.database.read(tenant: tenant) { tx in
            try await OAuthClientStore().list(includeRevoked: false, in: tx)
        }
        return try JSONResponse.make(Page(data: clients, nextCursor: nil))
    }

    private func find(_ context: AppRequestContext) async throws -> OAuthClient {
        try context.require(.oauthClientsRead)
        let tenant = try context.requireTenant()
        let clientID = context.parameters.get("client_id") ?? ""
        guard
            let found = try await services.database.read(
                tenant: tenant, { tx in try await OAuthClientStore().find(clientID: clientID, in: tx) })
        else { throw DomainError.notFound(entity: "OAuth client") }
        return found.client
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(CreateBody.self, from: request, context: context)
        let created = try await create(body, request, context)
        return try JSONResponse.created(
            created, location: "\(IdentityAPI.base)/oauth-clients/\(created.client.clientID)")
    }

    func create(_ body: CreateBody, _ request: Request, _ context: AppRequestContext) async throws -> Created {
        try context.require(.oauthClientsWrite)
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        let grants =
            body.grantTypes
            ?? ["authorization_code", "refresh_token"]
        let scopes = body.allowedScopes ?? ["openid", "profile", "email"]
        try Validation(
            issues: OAuthClient.issues(
                name: body.name, type: body.clientType, redirectURIs: body.redirectURIs ?? [], scopes: scopes,
                grantTypes: grants, permissionCatalog: services.permissions.catalog)
        ).check()
        let requestedPermissions = Set(scopes.compactMap(Permission.init))
        if !requestedPermissions.isSubset(of: principal.permissions) {
            throw DomainError.forbidden("a client cannot be allowed permissions you do not hold")
        }
        let now = services.clock.now()
        let client = OAuthClient(
            clientID: "client-" + Base64URL.randomToken(bytes: 12), name: body.name, type: body.clientType,
            redirectURIs: body.redirectURIs ?? [], allowedScopes: scopes, grantTypes: grants,
            createdBy: principal.subject, createdAt: Date(epochMilliseconds: now.epochMilliseconds), revokedAt: nil)
        let secret = body.clientType == .confidential ? "inops_" + Base64URL.randomToken() : nil
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            try await OAuthClientStore().create(client, secretHash: secret.map(SessionStore.hash), in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "oauth_client.created", actor: actor, targetType: "oauth_client", targetID: client.clientID,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(
                        before: [:],
                        after: [
                            "name": .string(client.name), "client_type": .string(client.type.rawValue),
                            "redirect_uris": .array(client.redirectURIs.map(JSONValue.string)),
                            "allowed_scopes": .array(client.allowedScopes.map(JSONValue.string)),
                            "grant_types": .array(client.grantTypes.map(JSONValue.string)),
                        ])),
                in: tx, at: now)
        }
        return Created(client: client, secret: secret)
    }

    func revoke(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.oauthClientsWrite)
        let tenant = try context.requireTenant()
        let clientID = context.parameters.get("client_id") ?? ""
        let now = services.clock.now()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            guard try await OAuthClientStore().revoke(clientID: clientID, now: now, in: tx) else {
                throw DomainError.notFound(entity: "OAuth client")
            }
            try await AuditTrail().record(
                AuditEntry(
                    action: "oauth_client.revoked", actor: actor, targetType: "oauth_client", targetID: clientID,
                    ip: origin.ip, requestID: origin.requestID),
                in: tx, at: now)
        }
        return JSONResponse.noContent()
    }
}
