import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/oauth2/token`, `/oauth2/revoke`, `/oauth2/introspect`, `/oauth2/userinfo` and the discovery document.
struct OAuthRoutes: Sendable {
    let services: IdentityServices
    var oauth: OAuthService { OAuthService(services: services) }

    func register(on routes: RouteRegistrar) {
        routes.post("/oauth2/token") { request, context in try await wrap { try await token(request, context) } }
        routes.post("/oauth2/revoke") { request, context in try await wrap { try await revoke(request, context) } }
        routes.post("/oauth2/introspect") { request, context in
            try await wrap { try await introspect(request, context) }
        }
        routes.get("/oauth2/userinfo") { _, context in try await userinfo(context) }
        routes.post("/oauth2/userinfo") { request, context in
            try await JSONBody.withoutBody(request, context) { try await userinfo(context) }
        }
        routes.get("/.well-known/openid-configuration") { request, _ in try discovery(request) }
    }

    /// OAuth endpoints answer errors in the OAuth shape.
    private func wrap(_ body: () async throws -> Response) async throws -> Response {
        do { return try await body() } catch let error as OAuthError { return try error.response() }
    }

    func token(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Self.form(request, context)
        let (tenant, client) = try await oauth.authenticateClient(
            form: form, authorization: request.headers[.authorization])
        let issuer = services.issuer.issuer(for: request)
        let origin = context.origin(request)
        let response: TokenResponse
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"] else { throw OAuthError.invalidRequest("code is required") }
            response = try await oauth.exchangeCode(
                code, redirectURI: form["redirect_uri"], verifier: form["code_verifier"], tenant: tenant,
                client: client,
                issuer: issuer, origin: origin)
        case "refresh_token":
            guard let token = form["refresh_token"] else {
                throw OAuthError.invalidRequest("refresh_token is required")
            }
            response = try await oauth.refresh(token, tenant: tenant, client: client, issuer: issuer, origin: origin)
        case "client_credentials":
            response = try await oauth.clientCredentials(
                requested: form["scope"], tenant: tenant, client: client, issuer: issuer)
        case let other?:
            throw OAuthError.unsupportedGrantType(other)
        case nil:
            throw OAuthError.invalidRequest("grant_type is required")
        }
        return try JSONResponse.make(response, headers: [HTTPField.Name("Pragma")!: "no-cache"])
    }

    /// The form body of a client's request; what is wrong with it is answered in RFC 6749's error format
    /// (`invalid_request`), like every other error of these endpoints.
    static func form(_ request: Request, _ context: AppRequestContext) async throws -> [String: String] {
        do { return try await FormBody.decode(request, context: context) } catch let problem as Problem {
            let fields = problem.errors.map { ": " + $0.map(\.field).joined(separator: ", ") } ?? ""
            throw OAuthError.invalidRequest((problem.detail ?? "malformed form body") + fields)
        }
    }

    func revoke(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Self.form(request, context)
        let (tenant, client) = try await oauth.authenticateClient(
            form: form, authorization: request.headers[.authorization])
        guard let token = form["token"] else { throw OAuthError.invalidRequest("token is required") }
        try await oauth.revoke(token, tenant: tenant, client: client, origin: context.origin(request))
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    /// RFC 7662, for confidential clients of the token's tenant. Stateful, unlike local verification: a revoked
    /// session's access tokens are reported inactive at once.
    func introspect(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Self.form(request, context)
        let (tenant, client) = try await oauth.authenticateClient(
            form: form, authorization: request.headers[.authorization])
        guard client.type == .confidential else {
            throw OAuthError.invalidClient("introspection needs a confidential client")
        }
        guard let token = form["token"] else { throw OAuthError.invalidRequest("token is required") }
        let inactive: [String: JSONValue] = ["active": .bool(false)]
        if token.hasPrefix("inopr_") {
            let now = services.clock.now()
            let idle = services.tokens.lifetimes.sessionIdle
            let result: [String: JSONValue]? = try await services.database.read(tenant: tenant) { tx in
                let sessions = SessionStore()
                guard let id = try await sessions.session(ofRefreshToken: token, in: tx),
                    let session = try await sessions.find(id: id, in: tx),
                    session.isActive(now: now, idleTimeout: idle),
                    try await sessions.isCurrent(refreshToken: token, in: tx)
                else { return nil }
                return [
                    "active": .bool(true), "token_type": .string("refresh_token"), "scope": .string(session.scope),
                    "client_id": .string(session.clientID ?? TokenService.firstPartyClient),
                    "sub": .string(session.userID.description), "tenant_id": .string(tenant.description),
                    "exp": .integer(Int64(session.expiresAt.timeIntervalSince1970)),
                ]
            }
            return try JSONResponse.make(result ?? inactive)
        }
        guard let claims = try? await services.tokens.verify(accessToken: token, issuer: services.issuer.configured),
            claims.tenantID == tenant.description, try await services.tenants.activeTenant(tenant) != nil
        else { return try JSONResponse.make(inactive) }
        if let sid = claims.sid.flatMap(ID<Session>.init) {
            let now = services.clock.now()
            let open = try await services.database.read(tenant: tenant) { tx in
                try await SessionStore().find(id: sid, in: tx)?.revokedAt == nil
            }
            guard open, now.timeIntervalSince1970 < Double(claims.exp) else { return try JSONResponse.make(inactive) }
        }
        let answer: [String: JSONValue] = [
            "active": .bool(true), "token_type": .string("Bearer"), "scope": .string(claims.scope),
            "client_id": .string(claims.clientID), "sub": .string(claims.sub), "iss": .string(claims.iss),
            "exp": .integer(claims.exp), "iat": .integer(claims.iat), "jti": .string(claims.jti),
            "tenant_id": .string(claims.tenantID), "aud": .array(claims.aud.values.map(JSONValue.string)),
        ]
        return try JSONResponse.make(answer)
    }

    func userinfo(_ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.scopes.contains("openid") else {
            throw Problem(
                status: .forbidden, detail: "the access token lacks the openid scope",
                headers: [.wwwAuthenticate: "Bearer error=\"insufficient_scope\", scope=\"openid\""])
        }
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
        guard
            let user = try await services.database.read(
                tenant: tenant, { tx in try await UserStore().find(id: id, in: tx) })
        else { throw Problem.invalidToken() }
        var claims: [String: JSONValue] = [
            "sub": .string(user.id.description), "tenant_id": .string(tenant.description),
        ]
        if principal.scopes.contains("email") {
            claims["email"] = .string(user.email)
            claims["email_verified"] = .bool(user.emailVerifiedAt != nil)
        }
        if principal.scopes.contains("profile") {
            claims["name"] = .string(user.name)
            if let locale = user.locale { claims["locale"] = .string(locale) }
            if let zone = user.timeZone { claims["zoneinfo"] = .string(zone) }
            claims["updated_at"] = .integer(Int64(user.updatedAt.timeIntervalSince1970))
        }
        return try JSONResponse.make(claims)
    }

    /// OpenID Connect Discovery 1.0 and RFC 8414 metadata.
    func discovery(_ request: Request) throws -> Response {
        let issuer = services.issuer.issuer(for: request)
        let scopes = ["openid", "profile", "email", "offline_access"] + services.permissions.catalog.map(\.description)
        let document: [String: JSONValue] = [
            "issuer": .string(issuer),
            "authorization_endpoint": .string("\(issuer)/oauth2/authorize"),
            "token_endpoint": .string("\(issuer)/oauth2/token"),
            "userinfo_endpoint": .string("\(issuer)/oauth2/userinfo"),
            "jwks_uri": .string("\(issuer)/.well-known/jwks.json"),
            "revocation_endpoint": .string("\(issuer)/oauth2/revoke"),
            "introspection_endpoint": .string("\(issuer)/oauth2/introspect"),
            "response_types_supported": .array([.string("code")]),
            "response_modes_supported": .array([.string("query")]),
            "grant_types_supported": .array(
                ["authorization_code", "refresh_token", "client_credentials"].map(JSONValue.string)),
            "subject_types_supported": .array([.string("public")]),
            "id_token_signing_alg_values_supported": .array([.string("ES256")]),
            "token_endpoint_auth_methods_supported": .array(
                ["client_secret_basic", "client_secret_post", "none"].map(JSONValue.string)),
            "revocation_endpoint_auth_methods_supported": .array(
                ["client_secret_basic", "client_secret_post", "none"].map(JSONValue.string)),
            "introspection_endpoint_auth_methods_supported": .array(
                ["client_secret_basic", "client_secret_post"].map(JSONValue.string)),
            "code_challenge_methods_supported": .array([.string("S256")]),
            "scopes_supported": .array(scopes.map(JSONValue.string)),
            "claims_supported": .array(
                [
                    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp", "email", "email_verified",
                    "name", "locale", "zoneinfo", "tenant_id",
                ].map(JSONValue.string)),
            "authorization_response_iss_parameter_supported": .bool(true),
        ]
        return try JSONResponse.make(document, headers: [.cacheControl: "public, max-age=300"])
    }
}
