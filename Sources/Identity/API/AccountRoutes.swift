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

    struct SignupResult: Encodable {
        let tenant: Tenant
        let user: User
        let tokens: TokenResponse
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
        let result = try await createTenant(
            slug: body.tenantSlug, tenantName: body.tenantName, name: body.name, email: body.email,
            password: body.password, origin: context.origin(request), issuer: services.issuer.issuer(for: request))
        return try JSONResponse.created(result, location: "\(IdentityAPI.base)/users/\(result.user.id)")
    }

    /// Creates a tenant and its first admin in one transaction, starts the admin's session and mails the address
    /// confirmation. Shared by the API and the sign-up page.
    func createTenant(
        slug: String, tenantName: String, name: String, email rawEmail: String, password: String,
        origin: RequestOrigin, issuer: String
    ) async throws -> SignupResult {
        var validation = Validation()
        validation.add(
            TenantRules.validate(slug: slug, name: tenantName, plan: "standard").map { issue in
                FieldIssue(field: "tenant_" + issue.field, code: issue.code, message: issue.message)
            })
        validation.add(UserRules.nameIssue(name))
        validation.add(EmailAddress.issue(rawEmail))
        let email = EmailAddress.normalise(rawEmail) ?? rawEmail
        validation.add(PasswordPolicy.issues(password: password, email: email))
        try validation.check()
        let hash = try await services.hasher.hash(password)
        let now = services.clock.now()
        let tenant = Tenant(
            id: .generate(), slug: slug, name: tenantName, status: .active, plan: "standard",
            createdAt: Date(epochMilliseconds: now.epochMilliseconds))
        let tokens = services.tokens
        let key = try await tokens.signingKey()
        let result = try await services.database.write(tenant: tenant.id) { tx in
            try await TenantStore.insert(tenant, in: tx)
            try await TenantSettingsStore().save(.defaults, now: now, in: tx)
            let user = try await UserStore().insert(
                email: email, name: name, passwordHash: hash, status: .active,
                roles: [BuiltInRole.tenantAdmin.rawValue], now: now, in: tx)
            let trail = AuditTrail()
            try await trail.record(
                AuditEntry(
                    action: "tenant.created", actor: actor(user), targetType: "tenant", targetID: tenant.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(
                        before: [:], after: ["slug": .string(tenant.slug), "name": .string(tenant.name)])),
                in: tx, at: now)
            try await trail.record(
                AuditEntry(
                    action: "user.created", actor: actor(user), targetType: "user", targetID: user.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(before: [:], after: user.auditSnapshot)),
                in: tx, at: now)
            let tokenResponse = try await tokens.startSession(
                user: user, clientID: TokenService.firstPartyClient, scope: TokenService.defaultScope, origin: origin,
                issuer: issuer, key: key, in: tx)
            return SignupResult(tenant: tenant, user: user, tokens: tokenResponse)
        }
        await sendVerification(to: result.user, tenant: tenant, issuer: issuer)
        return result
    }

    /// The new admin's address is confirmed by a link; a mail failure does not undo the sign-up (the user can ask
    /// for another link from their profile), it is logged.
    private func sendVerification(to user: User, tenant: Tenant, issuer: String) async {
        do {
            let now = services.clock.now()
            // Sign-ups with someone else's address count against it too (each would mail them).
            try await MailQuota(database: services.database).take(
                .verification, address: user.email, user: user.id.description, now: now)
            let token = try await services.database.write(tenant: tenant.id) { tx in
                try await ActionTokenStore().issue(.emailVerification, for: user.id, now: now, in: tx)
            }
            let link = "\(issuer)/verify-email?token=\(token)"
            let (subject, text, html) = IdentityMail.verification(to: user, organisation: tenant.name, link: link)
            try await services.mailer.send(
                to: MailAddress(user.email, name: user.name), subject: subject, text: text, html: html)
        } catch {
            services.logger.warning(
                "verification mail not sent", metadata: ["error.message": "\(String(reflecting: error))"])
        }
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
