import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Logging
import Platform
import ServiceLifecycle

/// Verifies `Authorization: Bearer` credentials for every route of the process: Inopsio access tokens (ES256
/// JWTs, verified locally against the signing keys, no database read) and API keys (`inop_...`, looked up by hash).
/// A suspended tenant's credentials stop working within the tenant cache's few seconds, a revoked session's
/// access tokens within `RevokedSessionsFeed`'s second.
struct IdentityAuthenticator: RequestAuthenticator {
    let tokens: TokenService
    let permissions: PermissionResolver
    let tenants: TenantStatusCache
    let database: any Database
    let clock: any WallClock
    let issuer: IssuerResolver
    /// `last_used_at` of an API key is written at most this often, not on every request.
    let touchInterval: TimeInterval = 60
    /// Tokens already verified, so each is checked once rather than on every request.
    let verified: VerifiedTokenCache
    /// Sessions ended before their access tokens expire.
    let revoked: RevokedSessions
    let logger: Logger

    /// Keeps `revoked` current in every process that verifies tokens, whatever modules it serves.
    var services: [any Service] {
        [RevokedSessionsFeed(revoked: revoked, database: database, clock: clock, logger: logger)]
    }

    func authenticate(_ request: Request, context: AppRequestContext) async throws -> Authentication? {
        guard request.headers[.authorization] != nil else { return try await authenticateCookie(request) }
        guard let credential = request.bearerToken else { return nil }
        if credential.hasPrefix(APIKey.secretPrefix) { return try await authenticateAPIKey(credential) }
        return try await authenticateAccessToken(credential)
    }

    /// The web apps' session cookie. An expired or invalid cookie is no credential at all (the page then refreshes
    /// or signs in), and a state-changing request another site triggered (`Sec-Fetch-Site: cross-site`) does not
    /// get the cookie's authority, on top of `SameSite=Lax`.
    private func authenticateCookie(_ request: Request) async throws -> Authentication? {
        guard let token = request.cookies[WebSession.accessCookie]?.value, !token.isEmpty else { return nil }
        let safe = request.method == .get || request.method == .head
        if !safe && request.headers[HTTPField.Name("Sec-Fetch-Site")!] == "cross-site" { return nil }
        return try? await authenticateAccessToken(token)
    }

    private func authenticateAccessToken(_ token: String) async throws -> Authentication {
        let known: VerifiedToken
        let now = clock.now()
        if let cached = verified.claims(for: token, now: now) {
            known = cached
        } else {
            let claims: AccessTokenClaims
            do { claims = try await tokens.verify(accessToken: token, issuer: issuer.configured) } catch {
                throw Problem.invalidToken()
            }
            verified.store(claims, for: token, now: now)
            known = VerifiedToken(claims)
        }
        let claims = known.claims
        if let session = claims.sid, revoked.contains(session) {
            throw Problem.invalidToken(detail: "the session of this token has ended")
        }
        guard let tenant = TenantID(claims.tenantID), try await tenants.activeTenant(tenant) != nil else {
            throw Problem.invalidToken(detail: "the tenant of this token is suspended or no longer exists")
        }
        let roles = Self.isService(claims) ? [] : try await permissions.permissions(tenant: tenant, roles: claims.roles)
        return Self.authentication(known, tenant: tenant, rolePermissions: roles)
    }

    /// The same decision from memory alone, for the gateway's fast path: a token verified before and not yet
    /// expired, of a tenant whose active status is cached, with roles whose permissions are known. Anything else
    /// (an API key, a cookie, a token seen for the first time, a stale cache) is left to `authenticate`.
    func cachedAuthentication(authorization: String) -> Authentication? {
        guard let token = Request.bearerToken(authorization: authorization), !token.hasPrefix(APIKey.secretPrefix),
            let known = verified.claims(for: token, now: clock.now()),
            !(known.claims.sid.map(revoked.contains) ?? false),
            let tenant = TenantID(known.claims.tenantID),
            let cached = tenants.cachedTenant(tenant), cached?.status == .active
        else { return nil }
        if Self.isService(known.claims) { return Self.authentication(known, tenant: tenant, rolePermissions: []) }
        guard let roles = permissions.cachedPermissions(tenant: tenant, roles: known.claims.roles) else { return nil }
        return Self.authentication(known, tenant: tenant, rolePermissions: roles)
    }

    /// Client credentials: no user session, the client acting for itself.
    static func isService(_ claims: AccessTokenClaims) -> Bool {
        claims.sid == nil && claims.sub == claims.clientID
    }

    /// The principal of verified `claims`; `rolePermissions` are those of the user's roles (unused for a service).
    static func authentication(_ known: VerifiedToken, tenant: TenantID, rolePermissions: Set<Permission>)
        -> Authentication
    {
        let claims = known.claims
        let isService = isService(claims)
        var granted: Set<Permission>
        if isService {
            // Client credentials: the permissions are the scope the client was allowed and asked for.
            granted = known.permissionScopes ?? []
        } else {
            granted = rolePermissions
            // A third-party client gets only the permissions its token's scope names; the first-party apps get
            // the user's, unless the scope narrows them (MFA enrollment).
            if let scoped = known.permissionScopes {
                granted.formIntersection(scoped)
            } else if !TokenService.firstPartyClients.contains(claims.clientID) {
                granted = []
            }
        }
        return Authentication(
            tenant: tenant,
            principal: Principal(
                subject: claims.sub, kind: isService ? .service : .user, permissions: granted, roles: claims.roles,
                sessionID: claims.sid, clientID: claims.clientID,
                scopes: known.scopes))
    }

    private func authenticateAPIKey(_ secret: String) async throws -> Authentication {
        let hash = SessionStore.hash(secret)
        let now = clock.now()
        guard let tenant = try await CredentialIndex(database: database).tenant(ofHash: hash, kind: "api_key"),
            try await tenants.activeTenant(tenant) != nil,
            let key = try await database.read(
                tenant: tenant, { tx in try await APIKeyStore().find(hash: hash, in: tx) }),
            key.isUsable(at: now)
        else { throw Problem.invalidToken(detail: "the API key is invalid, expired or revoked") }
        if key.lastUsedAt.map({ now.timeIntervalSince($0) >= touchInterval }) ?? true {
            try await database.write(tenant: tenant) { tx in try await APIKeyStore().touch(id: key.id, now: now, in: tx)
            }
        }
        return Authentication(
            tenant: tenant,
            principal: Principal(subject: key.id.description, kind: .apiKey, permissions: Set(key.permissions)))
    }
}

/// The token issuer: the configured public URL, or else the scheme and `Host` of the request.
package struct IssuerResolver: Sendable {
    /// `public_url` when set; tokens are then checked against it.
    package let configured: String?

    package func issuer(for request: Request) -> String {
        if let configured { return configured }
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[.init("X-Forwarded-Proto")!] == "https" ? "https" : "http"
        return "\(scheme)://\(host)"
    }
}
