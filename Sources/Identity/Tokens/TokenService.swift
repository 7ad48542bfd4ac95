import Crypto
import Foundation
import Kernel
import Platform

/// Why a refresh token or access token was refused. Clients get one generic answer; the reason is audited.
package enum TokenError: Error, Equatable, Sendable {
    case invalidGrant(String)
}

/// Issues and verifies access tokens, and starts, refreshes and ends sessions.
package final class TokenService: Sendable {
    /// The client id of Inopsio's own web apps and API clients signing in with a password.
    package static let firstPartyClient = "inopsio"
    /// Inopsio's own clients: the password API and the web apps. Their tokens carry the user's permissions.
    package static let firstPartyClients: Set<String> = [firstPartyClient, "inopsio-web"]
    /// The audience of tokens meant for Inopsio's APIs.
    package static let apiAudience = "inopsio-api"
    package static let defaultScope = "openid profile email"

    package let keys: SigningKeyRing
    package let lifetimes: TokenLifetimes
    let database: any Database
    let clock: any WallClock
    let permissions: PermissionResolver
    let tenants: TenantStatusCache

    init(
        keys: SigningKeyRing, lifetimes: TokenLifetimes, database: any Database, clock: any WallClock,
        permissions: PermissionResolver, tenants: TenantStatusCache
    ) {
        self.keys = keys
        self.lifetimes = lifetimes
        self.database = database
        self.clock = clock
        self.permissions = permissions
        self.tenants = tenants
    }

    /// The key to sign with. Fetch it before opening a write transaction: creating the installation's first key
    /// needs a write of its own, which on SQLite would wait for the open one forever.
    func signingKey() async throws -> SigningKeyRing.Key {
        try await keys.signingKey()
    }

    /// A signed access token.
    func accessToken(
        issuer: String, subject: String, tenant: TenantID, roles: [String], scope: String, sessionID: ID<Session>?,
        clientID: String, now: Date, key: SigningKeyRing.Key
    ) throws -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = AccessTokenClaims(
            iss: issuer, sub: subject, aud: .init([Self.apiAudience]), exp: issuedAt + Int64(lifetimes.accessToken),
            iat: issuedAt, jti: UUID.v7().lowercasedString, tenantID: tenant.description, roles: roles.sorted(),
            scope: scope, sid: sessionID?.description, clientID: clientID)
        return try JSONWebToken.sign(claims, key: key.privateKey, keyID: key.kid, type: "at+jwt")
    }

    /// Starts a session for `user` inside `tx` and returns its first tokens.
    func startSession(
        user: User, clientID: String, scope: String, origin: RequestOrigin, issuer: String, key: SigningKeyRing.Key,
        in tx: Transaction
    ) async throws -> TokenResponse {
        let now = clock.now()
        let sessions = SessionStore()
        let session = try await sessions.create(
            userID: user.id, clientID: clientID, scope: scope, ip: origin.ip, userAgent: origin.userAgent, now: now,
            lifetimes: lifetimes, in: tx)
        let refreshToken = try await sessions.issueRefreshToken(for: session.id, now: now, in: tx)
        let accessToken = try accessToken(
            issuer: issuer, subject: user.id.description, tenant: try tx.requireTenant(), roles: user.roles,
            scope: scope, sessionID: session.id, clientID: clientID, now: now, key: key)
        return TokenResponse(
            accessToken: accessToken, refreshToken: refreshToken, tokenType: "Bearer",
            expiresIn: Int(lifetimes.accessToken), scope: scope, idToken: nil)
    }

    /// Rotates `refreshToken`: the presented token becomes unusable, a new one is returned. Presenting a token
    /// that was already rotated revokes its session, so both the thief's and the owner's copies stop working.
    func refresh(_ refreshToken: String, clientID: String?, issuer: String, origin: RequestOrigin) async throws
        -> TokenResponse
    {
        let hash = SessionStore.hash(refreshToken)
        guard refreshToken.hasPrefix("inopr_"),
            let tenant = try await CredentialIndex(database: database).tenant(ofHash: hash, kind: "refresh_token"),
            try await tenants.activeTenant(tenant) != nil
        else { throw TokenError.invalidGrant("unknown refresh token") }
        let now = clock.now()
        let lifetimes = lifetimes
        enum Outcome: Sendable {
            case refreshed(user: User, session: Session, token: String)
            case refused(String)
        }
        let outcome = try await database.write(tenant: tenant) { tx -> Outcome in
            let sessions = SessionStore()
            switch try await sessions.claim(refreshToken: refreshToken, now: now, in: tx) {
            case .unknown:
                return .refused("unknown refresh token")
            case .reused(let session):
                if try await sessions.revoke(session.id, reason: "refresh_token_reused", now: now, in: tx) {
                    try await AuditTrail().record(
                        AuditEntry(
                            action: "token.reuse_detected", actor: .init(kind: "user", id: session.userID.description),
                            outcome: .failure, targetType: "session", targetID: session.id.description, ip: origin.ip,
                            requestID: origin.requestID,
                            details: ["effect": .string("session revoked: a rotated refresh token was presented")]),
                        in: tx, at: now)
                }
                return .refused("refresh token reused")
            case .current(let session):
                guard session.isActive(now: now, idleTimeout: lifetimes.sessionIdle) else {
                    return .refused("session expired or revoked")
                }
                if let clientID, session.clientID != clientID { return .refused("token issued to another client") }
                guard let user = try await UserStore().find(id: session.userID, in: tx), user.status == .active else {
                    return .refused("user not active")
                }
                try await sessions.touch(session.id, now: now, in: tx)
                let token = try await sessions.issueRefreshToken(for: session.id, now: now, in: tx)
                try await AuditTrail().record(
                    AuditEntry(
                        action: "token.refreshed",
                        actor: .init(kind: "user", id: user.id.description, name: user.email),
                        targetType: "session", targetID: session.id.description, ip: origin.ip,
                        requestID: origin.requestID),
                    in: tx, at: now)
                return .refreshed(user: user, session: session, token: token)
            }
        }
        switch outcome {
        case .refused(let reason):
            throw TokenError.invalidGrant(reason)
        case .refreshed(let user, let session, let token):
            let access = try accessToken(
                issuer: issuer, subject: user.id.description, tenant: tenant, roles: user.roles, scope: session.scope,
                sessionID: session.id, clientID: session.clientID ?? Self.firstPartyClient, now: now,
                key: try await signingKey())
            return TokenResponse(
                accessToken: access, refreshToken: token, tokenType: "Bearer", expiresIn: Int(lifetimes.accessToken),
                scope: session.scope, idToken: nil)
        }
    }

    /// Verifies an access token's signature, type and claims. `issuer` is checked when the installation has a
    /// configured public URL.
    func verify(accessToken token: String, issuer: String?) async throws -> AccessTokenClaims {
        guard let kid = JSONWebToken.unverifiedKeyID(token), let key = try await keys.publicKey(kid: kid) else {
            throw JWTError.unknownKey
        }
        let verified = try JSONWebToken.verify(token) { $0 == kid ? key : nil }
        guard verified.header.typ == "at+jwt" else { throw JWTError.wrongType }
        let claims: AccessTokenClaims
        do { claims = try JSONDecoder().decode(AccessTokenClaims.self, from: verified.payload) } catch {
            throw JWTError.malformed
        }
        try claims.registered.validate(now: clock.now(), issuer: issuer, audience: Self.apiAudience)
        return claims
    }
}
