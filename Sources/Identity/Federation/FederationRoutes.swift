import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Sign-in through a tenant's external OpenID Connect provider, as a step of `/oauth2/authorize`: the sign-in form
/// links to `/oauth2/authorize/federated`, which sends the browser to the provider (code flow with PKCE, `state` and
/// `nonce`); the provider returns to `/oauth2/callback`, where the ID token is verified, the user found or created
/// (just in time, with roles from the provider's claims), and the original authorization resumes with an Inopsio
/// code for the original client.
struct FederationRoutes: Sendable {
    let services: IdentityServices
    let upstream = UpstreamProvider()
    var authorize: AuthorizeRoutes { AuthorizeRoutes(services: services) }

    func register(on routes: RouteRegistrar) {
        routes.get("/oauth2/authorize/federated") { request, context in try await start(request, context) }
        routes.get("/oauth2/callback") { request, context in try await callback(request, context) }
    }

    func start(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try FormBody.parse(request.uri.query ?? "")
        let parameters = AuthorizeRoutes.Parameters(
            values: query.filter { AuthorizeRoutes.Parameters.names.contains($0.key) })
        let validated: AuthorizeRoutes.Validated
        do {
            validated = try await authorize.validate(parameters, issuer: services.issuer.issuer(for: request))
        } catch AuthorizeRoutes.Failure.page(let key) {
            return authorize.errorPage(request, context, messageKey: key)
        } catch AuthorizeRoutes.Failure.redirect(let uri, let error) {
            return PageResponses.redirect(uri, query: [("error", error), ("state", parameters["state"])])
        }
        guard let providerID = query["provider"].flatMap(ID<IdentityProvider>.init), let tenant = validated.tenant,
            let provider = validated.providers.first(where: { $0.id == providerID })
        else { return authorize.errorPage(request, context, messageKey: "federation.error.provider") }
        let authorizationEndpoint: String
        switch provider.kind {
        case .github:
            authorizationEndpoint = upstream.githubAuthorizationEndpoint(provider)
        case .oidc:
            do {
                authorizationEndpoint = try await upstream.metadata(issuer: provider.issuer).authorizationEndpoint
            } catch {
                services.logger.warning("identity provider unreachable", metadata: ["error.message": "\(error)"])
                return authorize.errorPage(request, context, messageKey: "federation.error.unreachable")
            }
        }
        let nonce = Base64URL.randomToken(bytes: 16)
        let verifier = Base64URL.randomToken(bytes: 48)
        let now = services.clock.now()
        let state = try await services.database.write(tenant: tenant) { tx in
            try await ProviderStore(secrets: services.secrets).saveState(
                .init(provider: provider.id, nonce: nonce, verifier: verifier, authorizeParameters: parameters.values),
                now: now, in: tx)
        }
        let fields: [(String, String?)] = [
            ("response_type", "code"), ("client_id", provider.clientID),
            ("redirect_uri", callbackURI(request)), ("scope", provider.scopes.joined(separator: " ")),
            ("state", state), ("nonce", nonce),
            ("code_challenge", Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))),
            ("code_challenge_method", "S256"),
        ]
        return PageResponses.redirect(authorizationEndpoint, query: fields)
    }

    private func callbackURI(_ request: Request) -> String {
        "\(services.issuer.issuer(for: request))/oauth2/callback"
    }

    func callback(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try FormBody.parse(request.uri.query ?? "")
        guard let stateToken = query["state"],
            let tenant = try await CredentialIndex(database: services.database).tenant(
                ofHash: SessionStore.hash(stateToken), kind: "federation_state")
        else { return authorize.errorPage(request, context, messageKey: "federation.error.state") }
        let now = services.clock.now()
        guard
            let state = try await services.database.write(
                tenant: tenant,
                { tx in try await ProviderStore(secrets: services.secrets).consumeState(stateToken, now: now, in: tx) })
        else { return authorize.errorPage(request, context, messageKey: "federation.error.state") }
        let parameters = AuthorizeRoutes.Parameters(values: state.authorizeParameters)
        let validated: AuthorizeRoutes.Validated
        do { validated = try await authorize.validate(parameters, issuer: services.issuer.issuer(for: request)) } catch
        {
            return authorize.errorPage(request, context, messageKey: "oauth.error.client")
        }
        guard let provider = validated.providers.first(where: { $0.id == state.provider }) else {
            return authorize.errorPage(request, context, messageKey: "federation.error.provider")
        }
        guard query["error"] == nil, let code = query["code"] else {
            return PageResponses.redirect(
                validated.redirectURI, query: [("error", "access_denied"), ("state", parameters["state"])])
        }
        let origin = context.origin(request)
        let claims: [String: JSONValue]
        do {
            switch provider.kind {
            case .github:
                claims = try await upstream.githubClaims(
                    code: code, verifier: state.verifier, redirectURI: callbackURI(request), provider: provider)
            case .oidc:
                let metadata = try await upstream.metadata(issuer: provider.issuer)
                let idToken = try await upstream.exchange(
                    code: code, verifier: state.verifier, redirectURI: callbackURI(request), provider: provider,
                    metadata: metadata)
                claims = try await upstream.verify(
                    idToken: idToken, provider: provider, metadata: metadata, nonce: state.nonce, now: now)
            }
        } catch {
            services.logger.warning("federated sign-in failed", metadata: ["error.message": "\(error)"])
            try await auditFailure(tenant: tenant, provider: provider, reason: "\(error)", origin: origin)
            return authorize.errorPage(request, context, messageKey: "federation.error.token")
        }
        let oauth = OAuthService(services: services)
        let outcome = try await services.database.write(tenant: tenant) { tx -> Result<String, FederationRefusal> in
            let resolution = try await resolveUser(claims: claims, provider: provider, now: now, origin: origin, in: tx)
            guard case .success(let user) = resolution else {
                if case .failure(let refusal) = resolution { return .failure(refusal) }
                return .failure(.notAllowed)
            }
            let code = try await oauth.issueCode(
                client: validated.client, user: user, redirectURI: validated.redirectURI, scope: validated.scope,
                nonce: parameters["nonce"], challenge: parameters["code_challenge"] ?? "", in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "login.succeeded", actor: actor(user), targetType: "user", targetID: user.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    details: [
                        "provider": .string(provider.name), "provider_id": .string(provider.id.description),
                        "client_id": .string(validated.client.clientID),
                    ]),
                in: tx, at: now)
            return .success(code)
        }
        switch outcome {
        case .success(let code):
            return PageResponses.redirect(
                validated.redirectURI,
                query: [("code", code), ("state", parameters["state"]), ("iss", services.issuer.issuer(for: request))])
        case .failure(let refusal):
            try await auditFailure(tenant: tenant, provider: provider, reason: refusal.reason, origin: origin)
            return authorize.errorPage(request, context, messageKey: refusal.messageKey)
        }
    }

    /// Why a verified provider identity cannot sign in here.
    enum FederationRefusal: Error {
        case noEmail
        case emailTaken
        case notAllowed
        case inactive

        var reason: String {
            switch self {
            case .noEmail: "no_email_claim"
            case .emailTaken: "email_belongs_to_unlinked_account"
            case .notAllowed: "user_creation_disabled"
            case .inactive: "user_not_active"
            }
        }

        var messageKey: String {
            switch self {
            case .noEmail, .notAllowed: "federation.error.notallowed"
            case .emailTaken: "federation.error.taken"
            case .inactive: "signin.error.credentials"
            }
        }
    }

    /// The linked user (roles re-synced when the provider says so), or a new one created just in time. An existing
    /// local account with the same email is never taken over silently: that would let whoever controls the
    /// provider sign in as any local user.
    func resolveUser(
        claims: [String: JSONValue], provider: IdentityProvider, now: Date, origin: RequestOrigin, in tx: Transaction
    ) async throws -> Result<User, FederationRefusal> {
        guard case .string(let subject)? = claims["sub"] else { return .failure(.notAllowed) }
        let users = UserStore()
        let store = ProviderStore(secrets: services.secrets)
        let roles = provider.roles(for: claims)
        if let linked = try await store.linkedUser(provider: provider.id, subject: subject, in: tx),
            var user = try await users.find(id: linked, in: tx)
        {
            guard user.status == .active else { return .failure(.inactive) }
            if provider.syncRoles && user.roles != roles {
                let before = user
                user.roles = roles
                user = try await users.update(user, now: now, in: tx)
                try await AuditTrail().record(
                    AuditEntry(
                        action: "user.updated",
                        actor: .init(kind: "provider", id: provider.id.description, name: provider.name),
                        targetType: "user", targetID: user.id.description, ip: origin.ip, requestID: origin.requestID,
                        changes: AuditEntry.changes(before: before.auditSnapshot, after: user.auditSnapshot)),
                    in: tx, at: now)
            }
            try await store.link(provider: provider.id, subject: subject, user: user.id, now: now, in: tx)
            return .success(user)
        }
        guard provider.createUsers else { return .failure(.notAllowed) }
        guard case .string(let rawEmail)? = claims["email"], let email = EmailAddress.normalise(rawEmail) else {
            return .failure(.noEmail)
        }
        if try await users.findWithCredentials(email: email, in: tx) != nil { return .failure(.emailTaken) }
        let name: String =
            if case .string(let value)? = claims["name"], !value.isEmpty { value } else {
                String(email.prefix { $0 != "@" })
            }
        let verified = claims["email_verified"] == .bool(true)
        let user = try await users.insert(
            email: email, name: name, passwordHash: nil, status: .active, roles: roles, now: now,
            emailVerified: verified,
            in: tx)
        try await store.link(provider: provider.id, subject: subject, user: user.id, now: now, in: tx)
        try await AuditTrail().record(
            AuditEntry(
                action: "user.created",
                actor: .init(kind: "provider", id: provider.id.description, name: provider.name),
                targetType: "user", targetID: user.id.description, ip: origin.ip, requestID: origin.requestID,
                changes: AuditEntry.changes(before: [:], after: user.auditSnapshot),
                details: ["just_in_time": .bool(true), "subject": .string(subject)]),
            in: tx, at: now)
        return .success(user)
    }

    private func auditFailure(tenant: TenantID, provider: IdentityProvider, reason: String, origin: RequestOrigin)
        async throws
    {
        let now = services.clock.now()
        _ = try await services.database.write(tenant: tenant) { tx in
            try await AuditTrail().record(
                AuditEntry(
                    action: "login.failed", actor: .anonymous, outcome: .failure, targetType: "identity_provider",
                    targetID: provider.id.description, ip: origin.ip, requestID: origin.requestID,
                    details: ["reason": .string(reason), "provider": .string(provider.name)]),
                in: tx, at: now)
        }
    }
}
