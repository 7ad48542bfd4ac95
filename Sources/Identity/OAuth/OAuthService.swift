import Crypto
import Foundation
import Kernel
import Platform

/// The OpenID Connect provider's logic: client authentication, authorization codes with PKCE, the token grants,
/// revocation and introspection. The HTTP shapes are in the OAuth routes (the token endpoint and the
/// authorization page).
struct OAuthService: Sendable {
    let services: IdentityServices
    static let codeLifetime: TimeInterval = 60

    var database: any Database { services.database }
    var clock: any WallClock { services.clock }

    /// A registered, unrevoked client and its tenant.
    func client(_ clientID: String) async throws -> (tenant: TenantID, client: OAuthClient, secretHash: String?)? {
        guard let tenant = try await OAuthClientStore.tenant(of: clientID, database: database),
            try await services.tenants.activeTenant(tenant) != nil,
            let found = try await database.read(
                tenant: tenant, { tx in try await OAuthClientStore().find(clientID: clientID, in: tx) }),
            found.client.revokedAt == nil
        else { return nil }
        return (tenant, found.client, found.secretHash)
    }

    /// Authenticates the client of a token-endpoint request: HTTP Basic (`client_secret_basic`), form fields
    /// (`client_secret_post`), or a public client's bare `client_id`.
    func authenticateClient(form: [String: String], authorization: String?) async throws -> (TenantID, OAuthClient) {
        var clientID = form["client_id"]
        var secret = form["client_secret"]
        if let authorization, authorization.lowercased().hasPrefix("basic ") {
            guard
                let decoded = Data(
                    base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { throw OAuthError.invalidClient() }
            // RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic credentials.
            let basicID = String(text[..<colon]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            let basicSecret = String(text[text.index(after: colon)...]).replacingOccurrences(of: "+", with: " ")
                .removingPercentEncoding
            guard secret == nil, clientID == nil || clientID == basicID else {
                throw OAuthError.invalidRequest("use one client authentication method")
            }
            clientID = basicID
            secret = basicSecret
        }
        guard let clientID, let found = try await client(clientID) else { throw OAuthError.invalidClient() }
        switch found.client.type {
        case .confidential:
            guard let secret, let stored = found.secretHash,
                Self.constantTimeEqual(SessionStore.hash(secret), stored)
            else { throw OAuthError.invalidClient() }
        case .public:
            guard secret == nil else { throw OAuthError.invalidClient("public clients have no secret") }
        }
        return (found.tenant, found.client)
    }

    /// Issues an authorization code for a user who has just signed in (called inside the sign-in transaction).
    func issueCode(
        client: OAuthClient, user: User, redirectURI: String, scope: String, nonce: String?, challenge: String,
        in tx: Transaction
    ) async throws -> String {
        let now = clock.now()
        return try await AuthorizationCodeStore().insert(
            .init(
                clientID: client.clientID, userID: user.id, redirectURI: redirectURI, scope: scope, nonce: nonce,
                codeChallenge: challenge, authTime: now, expiresAt: now.addingTimeInterval(Self.codeLifetime),
                usedAt: nil, sessionID: nil),
            now: now, in: tx)
    }

    /// The `authorization_code` grant: a single-use code, for the client it was issued to, with the same
    /// redirect URI and the PKCE verifier. A replayed code revokes the session its first use started.
    func exchangeCode(
        _ code: String, redirectURI: String?, verifier: String?, tenant: TenantID, client: OAuthClient,
        issuer: String, origin: RequestOrigin
    ) async throws -> TokenResponse {
        guard client.grantTypes.contains("authorization_code") else {
            throw OAuthError.unauthorizedClient("this client may not use authorization_code")
        }
        guard let verifier else { throw OAuthError.invalidRequest("code_verifier is required (PKCE)") }
        guard
            let codeTenant = try await CredentialIndex(database: database).tenant(
                ofHash: SessionStore.hash(code), kind: "authorization_code"), codeTenant == tenant
        else { throw OAuthError.invalidGrant("unknown authorization code") }
        let now = clock.now()
        let key = try await services.tokens.signingKey()
        let tokens = services.tokens
        let lifetimes = tokens.lifetimes
        enum Outcome: Sendable {
            case issued(TokenResponse)
            case refused(String)
        }
        let outcome = try await database.write(tenant: tenant) { tx -> Outcome in
            switch try await AuthorizationCodeStore().redeem(code, now: now, in: tx) {
            case .unknown:
                return .refused("unknown authorization code")
            case .reused(let grant):
                if let session = grant.sessionID,
                    try await SessionStore().revoke(session, reason: "authorization_code_reused", now: now, in: tx)
                {
                    try await AuditTrail().record(
                        AuditEntry(
                            action: "token.reuse_detected", actor: .init(kind: "client", id: client.clientID),
                            outcome: .failure, targetType: "session", targetID: session.description, ip: origin.ip,
                            requestID: origin.requestID, details: ["effect": .string("authorization code replayed")]),
                        in: tx, at: now)
                }
                return .refused("authorization code already used")
            case .fresh(let grant):
                guard grant.clientID == client.clientID else { return .refused("code issued to another client") }
                guard grant.redirectURI == redirectURI else { return .refused("redirect_uri does not match") }
                guard now < grant.expiresAt else { return .refused("authorization code expired") }
                guard PKCE.verify(verifier: verifier, challenge: grant.codeChallenge) else {
                    return .refused("code_verifier does not match the challenge")
                }
                guard let user = try await UserStore().find(id: grant.userID, in: tx), user.status == .active else {
                    return .refused("user not active")
                }
                let sessions = SessionStore()
                let session = try await sessions.create(
                    userID: user.id, clientID: client.clientID, scope: grant.scope, ip: origin.ip,
                    userAgent: origin.userAgent, now: now, lifetimes: lifetimes, in: tx)
                try await AuthorizationCodeStore().attachSession(session.id, toCode: code, in: tx)
                let refresh =
                    client.grantTypes.contains("refresh_token")
                    ? try await sessions.issueRefreshToken(for: session.id, now: now, in: tx) : nil
                let scopes = Set(grant.scope.split(separator: " ").map(String.init))
                let access = try tokens.accessToken(
                    issuer: issuer, subject: user.id.description, tenant: tenant, roles: user.roles, scope: grant.scope,
                    sessionID: session.id, clientID: client.clientID, now: now, key: key)
                let idToken =
                    scopes.contains("openid")
                    ? try JSONWebToken.sign(
                        IDTokenClaims(
                            user: user, tenant: tenant, clientID: client.clientID, issuer: issuer, scope: scopes,
                            nonce: grant.nonce, sessionID: session.id, authTime: grant.authTime, now: now,
                            lifetime: lifetimes.accessToken),
                        key: key.privateKey, keyID: key.kid) : nil
                try await AuditTrail().record(
                    AuditEntry(
                        action: "token.issued", actor: actor(user), targetType: "session",
                        targetID: session.id.description, ip: origin.ip, requestID: origin.requestID,
                        details: ["client_id": .string(client.clientID), "grant_type": .string("authorization_code")]),
                    in: tx, at: now)
                return .issued(
                    TokenResponse(
                        accessToken: access, refreshToken: refresh, tokenType: "Bearer",
                        expiresIn: Int(lifetimes.accessToken), scope: grant.scope, idToken: idToken))
            }
        }
        switch outcome {
        case .issued(let response): return response
        case .refused(let reason): throw OAuthError.invalidGrant(reason)
        }
    }

    /// The `refresh_token` grant for an OAuth client, with a fresh ID token when the session has `openid`.
    func refresh(_ token: String, tenant: TenantID, client: OAuthClient, issuer: String, origin: RequestOrigin)
        async throws -> TokenResponse
    {
        guard client.grantTypes.contains("refresh_token") else {
            throw OAuthError.unauthorizedClient("this client may not use refresh_token")
        }
        let response: TokenResponse
        do {
            response = try await services.tokens.refresh(
                token, clientID: client.clientID, issuer: issuer, origin: origin)
        } catch TokenError.invalidGrant(let reason) {
            throw OAuthError.invalidGrant(reason)
        }
        let scopes = Set(response.scope.split(separator: " ").map(String.init))
        guard scopes.contains("openid") else { return response }
        let claims = try await services.tokens.verify(accessToken: response.accessToken, issuer: nil)
        guard let userID = ID<User>(claims.sub),
            let user = try await database.read(tenant: tenant, { tx in try await UserStore().find(id: userID, in: tx) })
        else { throw OAuthError.invalidGrant("user not found") }
        let key = try await services.tokens.signingKey()
        let now = clock.now()
        let idToken = try JSONWebToken.sign(
            IDTokenClaims(
                user: user, tenant: tenant, clientID: client.clientID, issuer: issuer, scope: scopes, nonce: nil,
                sessionID: claims.sid.flatMap(ID<Session>.init), authTime: now, now: now,
                lifetime: services.tokens.lifetimes.accessToken),
            key: key.privateKey, keyID: key.kid)
        return TokenResponse(
            accessToken: response.accessToken, refreshToken: response.refreshToken, tokenType: "Bearer",
            expiresIn: response.expiresIn, scope: response.scope, idToken: idToken)
    }

    /// The `client_credentials` grant: a token for the client itself, with the permission scopes it asks for
    /// among those it is allowed (all of them when it asks for none). No refresh token.
    func clientCredentials(requested: String?, tenant: TenantID, client: OAuthClient, issuer: String) async throws
        -> TokenResponse
    {
        guard client.type == .confidential, client.grantTypes.contains("client_credentials") else {
            throw OAuthError.unauthorizedClient("this client may not use client_credentials")
        }
        let allowed = client.allowedScopes.filter { Permission($0) != nil }
        let asked = requested.map { $0.split(separator: " ").map(String.init) } ?? allowed
        guard asked.allSatisfy(allowed.contains) else {
            throw OAuthError.invalidScope("the client may ask only for: \(allowed.joined(separator: " "))")
        }
        let scope = asked.joined(separator: " ")
        let key = try await services.tokens.signingKey()
        let access = try services.tokens.accessToken(
            issuer: issuer, subject: client.clientID, tenant: tenant, roles: [], scope: scope, sessionID: nil,
            clientID: client.clientID, now: clock.now(), key: key)
        return TokenResponse(
            accessToken: access, refreshToken: nil, tokenType: "Bearer",
            expiresIn: Int(services.tokens.lifetimes.accessToken), scope: scope, idToken: nil)
    }

    /// RFC 7009: a refresh token of this client ends its session; anything else is acknowledged without effect
    /// (access tokens are self-contained and expire within 15 minutes).
    func revoke(_ token: String, tenant: TenantID, client: OAuthClient, origin: RequestOrigin) async throws {
        guard token.hasPrefix("inopr_"),
            try await CredentialIndex(database: database).tenant(
                ofHash: SessionStore.hash(token), kind: "refresh_token")
                == tenant
        else { return }
        let now = clock.now()
        try await database.write(tenant: tenant) { tx in
            let sessions = SessionStore()
            guard let sessionID = try await sessions.session(ofRefreshToken: token, in: tx),
                let session = try await sessions.find(id: sessionID, in: tx), session.clientID == client.clientID,
                try await sessions.revoke(sessionID, reason: "revoked_by_client", now: now, in: tx)
            else { return }
            try await AuditTrail().record(
                AuditEntry(
                    action: "logout", actor: .init(kind: "client", id: client.clientID), targetType: "session",
                    targetID: sessionID.description, ip: origin.ip, requestID: origin.requestID,
                    details: ["via": .string("oauth2/revoke")]),
                in: tx, at: now)
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
