import Foundation
import Kernel
import Platform

/// The tenant's OAuth clients, for the API and the admin pages: register, list, find, revoke; audited.
struct OAuthClientService: Sendable {
    let services: IdentityServices

    /// A client to register (the JSON body of `POST /oauth-clients`).
    struct Input: JSONRequestBody {
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

    func list(by caller: Caller) async throws -> [OAuthClient] {
        try caller.require(.oauthClientsRead)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await OAuthClientStore().list(includeRevoked: false, in: tx)
        }
    }

    func find(_ clientID: String, by caller: Caller) async throws -> OAuthClient {
        try caller.require(.oauthClientsRead)
        guard
            let found = try await services.database.read(
                tenant: caller.tenant, { tx in try await OAuthClientStore().find(clientID: clientID, in: tx) })
        else { throw DomainError.notFound(entity: "OAuth client") }
        return found.client
    }

    /// Registers a client (a confidential client's secret is shown once); its scopes may not exceed the caller's
    /// permissions.
    func create(_ body: Input, by caller: Caller) async throws -> Created {
        try caller.require(.oauthClientsWrite)
        let principal = caller.principal
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
        try await services.database.audited(
            "oauth_client.created", target: "oauth_client", id: { _ in client.clientID },
            changes: { _ in
                AuditEntry.changes(
                    before: [:],
                    after: [
                        "name": .string(client.name), "client_type": .string(client.type.rawValue),
                        "redirect_uris": .array(client.redirectURIs.map(JSONValue.string)),
                        "allowed_scopes": .array(client.allowedScopes.map(JSONValue.string)),
                        "grant_types": .array(client.grantTypes.map(JSONValue.string)),
                    ])
            }, at: now, by: caller
        ) { tx in try await OAuthClientStore().create(client, secretHash: secret.map(SessionStore.hash), in: tx) }
        return Created(client: client, secret: secret)
    }

    func revoke(_ clientID: String, by caller: Caller) async throws {
        try caller.require(.oauthClientsWrite)
        let now = services.clock.now()
        try await services.database.audited(
            "oauth_client.revoked", target: "oauth_client", id: { _ in clientID }, at: now, by: caller
        ) { tx in
            guard try await OAuthClientStore().revoke(clientID: clientID, now: now, in: tx) else {
                throw DomainError.notFound(entity: "OAuth client")
            }
        }
    }
}
