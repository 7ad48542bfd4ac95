import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// The web apps' sign-in: Inopsio's pages are a first-party OAuth client (`inopsio-web`) of its own provider, as
/// the issue asks. `/login` starts an authorization code + PKCE flow, `/auth/callback` exchanges the code on the
/// server and keeps the tokens in HttpOnly cookies (the access token for every path, the refresh token only for
/// `/auth`), `/auth/refresh` rotates them when the access token has expired, `/logout` ends the session.
/// Cookies are `SameSite=Lax`, so other sites cannot post forms with them; `Secure` when the issuer is https.
struct WebSession: Sendable {
    let services: IdentityServices
    static let accessCookie = "inopsio_at"
    static let refreshCookie = "inopsio_rt"
    static let loginCookie = "inopsio_login"

    /// What `/login` remembers until the callback: the state to compare, the PKCE verifier and where to go after.
    struct PendingLogin: Codable {
        let state: String
        let verifier: String
        let returnTo: String
    }

    func register(on routes: RouteRegistrar) {
        routes.get("/login") { request, _ in try login(request) }
        routes.get("/auth/callback") { request, context in try await callback(request, context) }
        routes.get("/auth/refresh") { request, context in try await refresh(request, context) }
        routes.post("/logout") { request, context in try await logout(request, context) }
    }

    /// A local path to return to; anything else (another host, `//evil`) becomes `/account`.
    static func safeReturn(_ text: String?) -> String {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"), !text.contains("\n")
        else { return "/account" }
        return text
    }

    func login(_ request: Request) throws -> Response {
        let issuer = services.issuer.issuer(for: request)
        let pending = PendingLogin(
            state: Base64URL.randomToken(bytes: 16), verifier: Base64URL.randomToken(bytes: 48),
            returnTo: Self.safeReturn(request.query("return_to")))
        var fields: [(String, String?)] = [
            ("response_type", "code"), ("client_id", OAuthClient.webClientID),
            ("redirect_uri", "\(issuer)/auth/callback"), ("scope", "openid profile email"), ("state", pending.state),
            ("code_challenge", Base64URL.encode(SHA256.hash(data: Data(pending.verifier.utf8)))),
            ("code_challenge_method", "S256"),
        ]
        if let tenant = request.query("tenant") { fields.append(("tenant", tenant)) }
        var response = PageResponses.redirect("/oauth2/authorize", query: fields)
        let value = Base64URL.encode(try JSONEncoder().encode(pending))
        response.setCookie(cookie(Self.loginCookie, value, path: "/auth", maxAge: 600, issuer: issuer))
        return response
    }

    func callback(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let issuer = services.issuer.issuer(for: request)
        guard let stored = request.cookies[Self.loginCookie]?.value, let data = Base64URL.decode(stored),
            let pending = try? JSONDecoder().decode(PendingLogin.self, from: data),
            request.query("state") == pending.state, let code = request.query("code"),
            let tenant = try await CredentialIndex(database: services.database).tenant(
                ofHash: SessionStore.hash(code), kind: "authorization_code")
        else { return PageResponses.redirect("/login") }
        let tokens: TokenResponse
        do {
            tokens = try await OAuthService(services: services).exchangeCode(
                code, redirectURI: "\(issuer)/auth/callback", verifier: pending.verifier, tenant: tenant,
                client: OAuthClient.firstPartyWeb(issuer: issuer), issuer: issuer, origin: context.origin(request))
        } catch is OAuthError {
            return PageResponses.redirect("/login", query: [("return_to", pending.returnTo)])
        }
        var response = PageResponses.redirect(pending.returnTo)
        setTokenCookies(tokens, on: &response, issuer: issuer)
        response.setCookie(cookie(Self.loginCookie, "", path: "/auth", maxAge: 0, issuer: issuer))
        return response
    }

    func refresh(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let issuer = services.issuer.issuer(for: request)
        let returnTo = Self.safeReturn(request.query("return_to"))
        guard let token = request.cookies[Self.refreshCookie]?.value else {
            return PageResponses.redirect("/login", query: [("return_to", returnTo)])
        }
        do {
            let tokens = try await services.tokens.refresh(
                token, clientID: OAuthClient.webClientID, issuer: issuer, origin: context.origin(request))
            var response = PageResponses.redirect(returnTo)
            setTokenCookies(tokens, on: &response, issuer: issuer)
            return response
        } catch TokenError.invalidGrant {
            var response = PageResponses.redirect("/login", query: [("return_to", returnTo)])
            clearTokenCookies(on: &response, issuer: issuer)
            return response
        }
    }

    func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let issuer = services.issuer.issuer(for: request)
        if let principal = context.principal, let tenant = context.tenant,
            let session = principal.sessionID.flatMap(ID<Session>.init)
        {
            let now = services.clock.now()
            let origin = context.origin(request)
            try await services.database.write(tenant: tenant) { tx in
                if try await SessionStore().revoke(session, reason: "logout", now: now, in: tx) {
                    try await AuditTrail().record(
                        AuditEntry(
                            action: "logout", actor: .init(kind: "user", id: principal.subject), targetType: "session",
                            targetID: session.description, ip: origin.ip, requestID: origin.requestID),
                        in: tx, at: now)
                }
            }
        }
        var response = PageResponses.redirect("/")
        clearTokenCookies(on: &response, issuer: issuer)
        return response
    }

    private func setTokenCookies(_ tokens: TokenResponse, on response: inout Response, issuer: String) {
        response.setCookie(
            cookie(Self.accessCookie, tokens.accessToken, path: "/", maxAge: tokens.expiresIn, issuer: issuer))
        if let refresh = tokens.refreshToken {
            let week = Int(services.tokens.lifetimes.sessionAbsolute)
            response.setCookie(cookie(Self.refreshCookie, refresh, path: "/auth", maxAge: week, issuer: issuer))
        }
    }

    private func clearTokenCookies(on response: inout Response, issuer: String) {
        response.setCookie(cookie(Self.accessCookie, "", path: "/", maxAge: 0, issuer: issuer))
        response.setCookie(cookie(Self.refreshCookie, "", path: "/auth", maxAge: 0, issuer: issuer))
    }

    private func cookie(_ name: String, _ value: String, path: String, maxAge: Int, issuer: String) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: path, secure: issuer.hasPrefix("https://"), httpOnly: true,
            sameSite: .lax)
    }
}
