import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/oauth2/authorize`: the authorization code flow with PKCE S256 (the only one offered). GET shows the sign-in
/// form of the client's tenant; POST checks the credentials (with the same lockout, throttling and second factor
/// as the API sign-in) and redirects back with a single-use code, `state` and `iss` (RFC 9207).
///
/// Errors about the client or the redirect URI are shown to the user and never redirected (RFC 6749 §4.1.2.1);
/// other errors go back to the client as `error=...`. Simplification: every authorization asks for the password
/// (there is no single sign-on cookie yet), and first-party clients need no consent screen since none exists.
struct AuthorizeRoutes: Sendable {
    let services: IdentityServices
    var oauth: OAuthService { OAuthService(services: services) }

    /// The request parameters, carried through the form as hidden fields.
    struct Parameters: Sendable {
        var values: [String: String]
        static let names = [
            "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
            "code_challenge_method",
        ]
        subscript(_ name: String) -> String? { values[name] }
    }

    /// What a validated request is for.
    struct Validated: Sendable {
        /// `nil` for Inopsio's own web client, which serves every tenant: the form then asks for the organisation.
        let tenant: TenantID?
        let tenantName: String
        let client: OAuthClient
        let redirectURI: String
        let scope: String
        let parameters: Parameters
        /// The tenant's enabled external identity providers, offered on the sign-in form.
        let providers: [IdentityProvider]
    }

    /// Where validation stopped: show a page, or send the user back to the client with an error.
    enum Failure: Error {
        case page(String)
        case redirect(String, String)
    }

    func register(on routes: RouteRegistrar) {
        routes.get("/oauth2/authorize") { request, context in
            // Query parameters use form encoding (`scope=openid+profile`), and none may repeat (RFC 6749 §3.1).
            let query = try FormBody.parse(request.uri.query ?? "")
            let parameters = Parameters(values: query.filter { Parameters.names.contains($0.key) })
            return try await respond(request, context, parameters: parameters, credentials: nil)
        }
        routes.post("/oauth2/authorize") { request, context in
            let form = try await FormBody.decode(request, context: context)
            let parameters = Parameters(values: form.filter { Parameters.names.contains($0.key) })
            return try await respond(request, context, parameters: parameters, credentials: form)
        }
    }

    private func respond(
        _ request: Request, _ context: AppRequestContext, parameters: Parameters, credentials: [String: String]?
    ) async throws -> Response {
        let validated: Validated
        do {
            validated = try await validate(parameters, issuer: services.issuer.issuer(for: request))
        } catch Failure.page(let key) {
            return errorPage(request, context, messageKey: key)
        } catch Failure.redirect(let uri, let error) {
            return PageResponses.redirect(uri, query: [("error", error), ("state", parameters["state"])])
        }
        guard let credentials else {
            return form(
                request, context, validated, errorKey: nil, email: "", organisation: request.query("tenant") ?? "")
        }
        let organisation = credentials["tenant"] ?? ""
        let attempt = LoginService.Attempt(
            tenant: validated.tenant.map { .id($0) } ?? .slug(organisation), email: credentials["email"] ?? "",
            password: credentials["password"] ?? "",
            totpCode: credentials["totp_code"].flatMap { $0.isEmpty ? nil : $0 }, clientID: validated.client.clientID,
            scope: validated.scope)
        let oauth = oauth
        do {
            let code = try await services.login.authenticate(attempt, origin: context.origin(request)) { user, _, tx in
                try await oauth.issueCode(
                    client: validated.client, user: user, redirectURI: validated.redirectURI, scope: validated.scope,
                    nonce: parameters["nonce"], challenge: parameters["code_challenge"] ?? "", in: tx)
            }
            return PageResponses.redirect(
                validated.redirectURI,
                query: [("code", code), ("state", parameters["state"]), ("iss", services.issuer.issuer(for: request))])
        } catch let error as LoginError {
            let key =
                switch error {
                case .invalidCredentials: "signin.error.credentials"
                case .mfaRequired: "signin.error.mfa"
                case .throttled: "signin.error.throttled"
                }
            return form(
                request, context, validated, errorKey: key, email: attempt.email, organisation: organisation,
                status: .unauthorized)
        }
    }

    /// RFC 6749 §4.1.1 and RFC 7636 checks, in the order that decides whether an error may be redirected.
    func validate(_ parameters: Parameters, issuer: String) async throws -> Validated {
        guard let clientID = parameters["client_id"] else { throw Failure.page("oauth.error.client") }
        let found: (tenant: TenantID?, client: OAuthClient)
        if clientID == OAuthClient.webClientID {
            found = (nil, OAuthClient.firstPartyWeb(issuer: issuer))
        } else if let registered = try await oauth.client(clientID) {
            found = (registered.tenant, registered.client)
        } else {
            throw Failure.page("oauth.error.client")
        }
        guard let redirectURI = parameters["redirect_uri"], found.client.redirectURIs.contains(redirectURI) else {
            throw Failure.page("oauth.error.redirect")
        }
        guard parameters["response_type"] == "code" else {
            throw Failure.redirect(redirectURI, "unsupported_response_type")
        }
        guard found.client.grantTypes.contains("authorization_code") else {
            throw Failure.redirect(redirectURI, "unauthorized_client")
        }
        guard parameters["code_challenge_method"] == "S256", let challenge = parameters["code_challenge"],
            PKCE.isValidChallenge(challenge)
        else { throw Failure.redirect(redirectURI, "invalid_request") }
        let scopes = (parameters["scope"] ?? "openid").split(separator: " ").map(String.init)
        guard !scopes.isEmpty, found.client.grantable(scopes) != nil else {
            throw Failure.redirect(redirectURI, "invalid_scope")
        }
        var tenantName = ""
        var providers: [IdentityProvider] = []
        if let tenant = found.tenant {
            tenantName = try await TenantStore(database: services.database).find(id: tenant)?.name ?? ""
            providers = try await services.database.read(tenant: tenant) { tx in
                try await ProviderStore(secrets: services.secrets).list(in: tx).filter(\.enabled)
            }
        }
        return Validated(
            tenant: found.tenant, tenantName: tenantName, client: found.client, redirectURI: redirectURI,
            scope: scopes.joined(separator: " "), parameters: parameters, providers: providers)
    }

    func errorPage(_ request: Request, _ context: AppRequestContext, messageKey: String) -> Response {
        services.web.page(
            request: request, context: context, status: .badRequest, title: { $0("oauth.error.title") },
            content: { chrome in
                """
                <section class="empty-state"><h1>\(chrome.t("oauth.error.title"))</h1><p>\(chrome.t(messageKey))</p></section>
                """
            })
    }

    private func form(
        _ request: Request, _ context: AppRequestContext, _ validated: Validated, errorKey: String?, email: String,
        organisation: String, status: HTTPResponse.Status = .ok
    ) -> Response {
        var response = services.web.page(
            request: request, context: context, status: status, title: { $0("signin.title") },
            content: { chrome in
                let t = chrome.t
                let lead =
                    validated.tenant == nil
                    ? t("signin.lead.web")
                    : t("signin.lead").replacingOccurrences(of: "{organisation}", with: validated.tenantName)
                        .replacingOccurrences(of: "{client}", with: validated.client.name)

                let hidden = Parameters.names.compactMap { name -> HTML? in
                    validated.parameters[name].map { #"<input type="hidden" name="\#(name)" value="\#($0)">"# }
                }
                let error: HTML =
                    errorKey.map { #"<p class="alert alert-danger" role="alert" id="signin-error">\#(t($0))</p>"# }
                    ?? ""
                let invalid: HTML = errorKey == nil ? "" : #" aria-invalid="true" aria-describedby="signin-error""#
                let organisationField: HTML =
                    validated.tenant != nil
                    ? ""
                    : """
                    <div class="field"><label for="tenant">\(t("signin.organisation"))</label>
                    <input id="tenant" name="tenant" autocomplete="organization" required value="\(organisation)"\(invalid)></div>
                    """
                return """
                    <section class="auth-card"><h1>\(t("signin.title"))</h1><p>\(lead)</p>\(error)
                    <form class="form" method="post" action="/oauth2/authorize">\(hidden)\(organisationField)
                    <div class="field"><label for="email">\(t("signin.email"))</label>
                    <input id="email" name="email" type="email" autocomplete="username" required value="\(email)"\(invalid)></div>
                    <div class="field"><label for="password">\(t("signin.password"))</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required\(invalid)></div>
                    <div class="field"><label for="totp_code">\(t("signin.totp"))</label>
                    <input id="totp_code" name="totp_code" inputmode="numeric" autocomplete="one-time-code" aria-describedby="totp-hint">
                    <p class="field-hint" id="totp-hint">\(t("signin.totp.hint"))</p></div>
                    <div class="form-actions"><button class="button button-primary" type="submit">\(t("signin.submit"))</button></div>
                    </form>\(providerLinks(validated, t: t))</section>
                    """
            })
        response.headers[.cacheControl] = "no-store"
        // After the POST the browser follows a redirect to the client, which `form-action` must allow (Chromium
        // applies it to redirects).
        let origin = URLComponents(string: validated.redirectURI).map { components in
            "\(components.scheme ?? "https")://\(components.host ?? "")\(components.port.map { ":\($0)" } ?? "")"
        }
        response.headers[.contentSecurityPolicy] = SecurityHeaders.pagePolicy(
            nonce: context.cspNonce, formActions: origin.map { [$0] } ?? [])
        return response
    }

    /// "Sign in with ..." links for the tenant's external providers, carrying the authorization request along.
    private func providerLinks(_ validated: Validated, t: Localizer) -> HTML {
        guard !validated.providers.isEmpty else { return "" }
        let carried = Parameters.names.compactMap { name in validated.parameters[name].map { (name, $0) } }
        let links = validated.providers.map { provider -> HTML in
            let query = FormBody.encode([("provider", provider.id.description)] + carried)
            let label = t("federation.signin.with").replacingOccurrences(of: "{provider}", with: provider.name)
            return #"<li><a class="button" href="/oauth2/authorize/federated?\#(query)">\#(label)</a></li>"#
        }
        return "<ul class=\"provider-list\">\(links)</ul>"
    }
}
