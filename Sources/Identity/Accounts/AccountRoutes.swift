import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Sign-up, sign-in, token refresh and sign-out.
struct AccountRoutes: Sendable {
    let services: IdentityServices

    struct SignupBody: JSONRequestBody {
        let tenantSlug: String
        let tenantName: String
        let name: String
        let email: String
        let password: String
        static let fieldNames: Set<String> = ["tenant_slug", "tenant_name", "name", "email", "password"]
        enum CodingKeys: String, CodingKey {
            case name, email, password
            case tenantSlug = "tenant_slug"
            case tenantName = "tenant_name"
        }
    }

    struct LoginBody: JSONRequestBody {
        let tenant: String
        let email: String
        let password: String
        let totpCode: String?
        static let fieldNames: Set<String> = ["tenant", "email", "password", "totp_code"]
        enum CodingKeys: String, CodingKey {
            case tenant, email, password
            case totpCode = "totp_code"
        }
    }

    struct RefreshBody: JSONRequestBody {
        let refreshToken: String
        static let fieldNames: Set<String> = ["refresh_token"]
        enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
    }

    func register(on routes: RouteRegistrar) {
        let base = IdentityAPI.base
        routes.post("\(base)/signup") { request, context in try await signup(request, context) }
        routes.post("\(base)/login") { request, context in try await login(request, context) }
        routes.post("\(base)/refresh") { request, context in try await refresh(request, context) }
        routes.post("\(base)/logout") { request, context in
            try await JSONBody.withoutBody(request, context) { try await logout(request, context) }
        }
    }

    func signup(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(SignupBody.self, from: request, context: context)
        let result = try await SignupService(services: services).createTenant(
            slug: body.tenantSlug, tenantName: body.tenantName, name: body.name, email: body.email,
            password: body.password, origin: context.origin(request), issuer: services.issuer.issuer(for: request))
        return try JSONResponse.created(result, location: "\(IdentityAPI.base)/users/\(result.user.id)")
    }

    func login(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(LoginBody.self, from: request, context: context)
        let attempt = LoginService.Attempt(
            tenant: .slug(body.tenant), email: body.email, password: body.password, totpCode: body.totpCode)
        do {
            let tokens = try await services.login.login(
                attempt, origin: context.origin(request), issuer: services.issuer.issuer(for: request))
            return try JSONResponse.make(tokens, headers: [HTTPField.Name("Pragma")!: "no-cache"])
        } catch let error as LoginError {
            throw Self.problem(error, now: services.clock.now())
        }
    }

    static func problem(_ error: LoginError, now: Date) -> Problem {
        switch error {
        case .invalidCredentials:
            return Problem(
                status: .unauthorized, type: "/problems/invalid-credentials", title: "Sign-in failed",
                detail: "the organisation, email or password is not right", headers: [.wwwAuthenticate: "Bearer"])
        case .throttled(let until):
            let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
            return Problem(
                status: .tooManyRequests, type: "/problems/too-many-attempts", title: "Too many attempts",
                detail: "too many failed sign-ins from this address; try again in \(seconds) seconds",
                headers: [.retryAfter: String(seconds)])
        case .mfaRequired:
            return Problem(
                status: .unauthorized, type: "/problems/mfa-required", title: "Second factor required",
                detail: "enter the 6-digit code from your authenticator app, or a backup code",
                errors: [FieldIssue(field: "totp_code", code: "required", message: "a current code is required")],
                headers: [.wwwAuthenticate: "Bearer"])
        }
    }

    func refresh(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(RefreshBody.self, from: request, context: context)
        do {
            let tokens = try await services.tokens.refresh(
                body.refreshToken, clientID: TokenService.firstPartyClient,
                issuer: services.issuer.issuer(for: request), origin: context.origin(request))
            return try JSONResponse.make(tokens, headers: [HTTPField.Name("Pragma")!: "no-cache"])
        } catch TokenError.invalidGrant {
            throw Problem(
                status: .unauthorized, type: "/problems/invalid-grant", title: "Refresh refused",
                detail: "the refresh token is invalid, expired or revoked; sign in again",
                headers: [.wwwAuthenticate: "Bearer"])
        }
    }

    /// Ends the caller's session: its refresh tokens stop working (the access token expires on its own).
    func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let tenant = try context.requireTenant()
        guard let sessionText = principal.sessionID, let session = ID<Session>(sessionText) else {
            throw Problem(status: .badRequest, detail: "this credential has no session to end")
        }
        let now = services.clock.now()
        let origin = context.origin(request)
        let actor = try context.auditActor()
        try await services.database.write(tenant: tenant) { tx in
            if try await SessionStore().revoke(session, reason: "logout", now: now, in: tx) {
                try await AuditTrail().record(
                    AuditEntry(
                        action: "logout", actor: actor, targetType: "session", targetID: session.description,
                        ip: origin.ip, requestID: origin.requestID),
                    in: tx, at: now)
            }
        }
        return JSONResponse.noContent()
    }
}
