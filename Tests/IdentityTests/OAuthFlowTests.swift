import Crypto
import Foundation
import HTTPTypes
import Kernel
import NIOCore
import Platform
import TestSupport
import Testing

@testable import Identity

@Suite struct OAuthFlowTests {
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more"
    static var challenge: String { Base64URL.encode(SHA256.hash(data: Data(verifier.utf8))) }
    static let redirect = "http://127.0.0.1:9999/callback"

    static func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: FormBody.encode(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    static func post(_ app: IdentityHarness, _ path: String, _ fields: [String: String], basic: String? = nil)
        async throws -> IdentityHarness.Reply
    {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let basic { headers[.authorization] = "Basic " + Data(basic.utf8).base64EncodedString() }
        return try await app.client.execute(uri: path, method: .post, headers: headers, body: form(fields)) {
            IdentityHarness.Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }

    static func registerClient(
        _ app: IdentityHarness, admin: String, type: String = "public", extra: [String: Any] = [:]
    )
        async throws -> IdentityHarness.Reply
    {
        var body: [String: Any] = [
            "name": "Reporting app", "client_type": type, "redirect_uris": [redirect],
            "allowed_scopes": ["openid", "profile", "email", "identity.users:read"],
        ]
        body.merge(extra) { $1 }
        let reply = try await app.call(.post, "/api/v1/identity/oauth-clients", token: admin, json: body)
        #expect(reply.status == .created, "\(reply.body)")
        return reply
    }

    /// Signs in through the authorize form and returns the code from the redirect.
    static func authorize(_ app: IdentityHarness, clientID: String, scope: String = "openid profile email")
        async throws -> String
    {
        let parameters = [
            "response_type": "code", "client_id": clientID, "redirect_uri": redirect, "scope": scope,
            "state": "xyz", "nonce": "n-0S6", "code_challenge": challenge, "code_challenge_method": "S256",
        ]
        let query = FormBody.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let page = try await app.call(.get, "/oauth2/authorize?\(query)", headers: [.accept: "text/html"])
        #expect(page.status == .ok)
        #expect(page.body.contains(#"name="code_challenge" value="\#(challenge)""#))
        #expect(page.headers[.contentSecurityPolicy]?.contains("form-action 'self' http://127.0.0.1:9999") == true)
        var fields = parameters
        fields["email"] = "admin@example.com"
        fields["password"] = "correct horse battery"
        let reply = try await post(app, "/oauth2/authorize", fields)
        #expect(reply.status == .seeOther, "\(reply.body)")
        let location = try #require(reply.headers[.location].flatMap(URLComponents.init(string:)))
        #expect(location.path == "/callback")
        let items = Dictionary(uniqueKeysWithValues: (location.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["state"] == "xyz")
        #expect(items["iss"] != nil)
        return try #require(items["code"])
    }

    @Test(arguments: TestBackend.available)
    func authorizationCodeWithPKCEGivesVerifiableIDTokenAndRefreshableSession(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let clientID = try #require(try await Self.registerClient(app, admin: admin).string("client_id"))
            let code = try await Self.authorize(app, clientID: clientID)
            let exchange = try await Self.post(
                app, "/oauth2/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirect,
                    "client_id": clientID, "code_verifier": Self.verifier,
                ])
            #expect(exchange.status == .ok, "\(exchange.body)")
            let idToken = try #require(exchange.string("id_token"))
            let jwks = try JSONDecoder().decode(
                JSONWebKeySet.self, from: Data(try await app.call(.get, "/.well-known/jwks.json").body.utf8))
            let verified = try JSONWebToken.verify(idToken) { jwks.key(id: $0) }
            let claims = try #require(try JSONSerialization.jsonObject(with: verified.payload) as? [String: Any])
            #expect(claims["aud"] as? String == clientID)
            #expect(claims["nonce"] as? String == "n-0S6")
            #expect(claims["email"] as? String == "admin@example.com")

            let access = try #require(exchange.string("access_token"))
            let userinfo = try await app.call(.get, "/oauth2/userinfo", token: access)
            #expect(userinfo.status == .ok)
            #expect(userinfo.string("email") == "admin@example.com")
            // A third-party client's token carries only the permissions its scope names: none here.
            #expect(try await app.call(.get, "/api/v1/identity/users", token: access).status == .forbidden)

            let refresh = try #require(exchange.string("refresh_token"))
            let refreshed = try await Self.post(
                app, "/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": clientID])
            #expect(refreshed.status == .ok, "\(refreshed.body)")
            #expect(refreshed.string("id_token") != nil)
            let next = try #require(refreshed.string("refresh_token"))

            let revoked = try await Self.post(app, "/oauth2/revoke", ["token": next, "client_id": clientID])
            #expect(revoked.status == .ok)
            let afterRevoke = try await Self.post(
                app, "/oauth2/token", ["grant_type": "refresh_token", "refresh_token": next, "client_id": clientID])
            #expect(afterRevoke.status == .badRequest)
            #expect(afterRevoke.string("error") == "invalid_grant")
        }
    }

    @Test(arguments: TestBackend.available)
    func codesAreSingleUseBoundToVerifierClientAndRedirect(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let clientID = try #require(try await Self.registerClient(app, admin: admin).string("client_id"))
            let exchange = { (code: String, verifier: String, redirect: String) in
                try await Self.post(
                    app, "/oauth2/token",
                    [
                        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                        "client_id": clientID, "code_verifier": verifier,
                    ])
            }
            let wrongVerifier = try await exchange(
                try await Self.authorize(app, clientID: clientID), String(repeating: "a", count: 43), Self.redirect)
            #expect(wrongVerifier.string("error") == "invalid_grant")
            let wrongRedirect = try await exchange(
                try await Self.authorize(app, clientID: clientID), Self.verifier, "http://127.0.0.1:9999/other")
            #expect(wrongRedirect.string("error") == "invalid_grant")

            let code = try await Self.authorize(app, clientID: clientID)
            let first = try await exchange(code, Self.verifier, Self.redirect)
            #expect(first.status == .ok)
            let replay = try await exchange(code, Self.verifier, Self.redirect)
            #expect(replay.string("error") == "invalid_grant")
            // The replay also ended the session the first exchange started.
            let refresh = try #require(first.string("refresh_token"))
            let dead = try await Self.post(
                app, "/oauth2/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": clientID])
            #expect(dead.string("error") == "invalid_grant")

            let late = try await Self.authorize(app, clientID: clientID)
            app.clock.advance(by: 61)
            #expect(try await exchange(late, Self.verifier, Self.redirect).string("error") == "invalid_grant")
        }
    }

    @Test(arguments: TestBackend.available)
    func badClientOrRedirectIsShownNeverRedirectedAndMissingPKCEIsRedirected(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let clientID = try #require(try await Self.registerClient(app, admin: admin).string("client_id"))
            let unknown = try await app.call(
                .get, "/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=https%3A%2F%2Fevil.example%2F")
            #expect(unknown.status == .badRequest)
            #expect(unknown.headers[.location] == nil)
            let evil = try await app.call(
                .get,
                "/oauth2/authorize?response_type=code&client_id=\(clientID)&redirect_uri=https%3A%2F%2Fevil.example%2F")
            #expect(evil.status == .badRequest)
            #expect(evil.headers[.location] == nil)
            let redirect = Self.redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let noPKCE = try await app.call(
                .get, "/oauth2/authorize?response_type=code&client_id=\(clientID)&redirect_uri=\(redirect)&state=s1")
            #expect(noPKCE.status == .seeOther)
            #expect(noPKCE.headers[.location] == "\(Self.redirect)?error=invalid_request&state=s1")
            let badScope = try await app.call(
                .get,
                "/oauth2/authorize?response_type=code&client_id=\(clientID)&redirect_uri=\(redirect)&scope=openid%20identity.users%3Awrite&code_challenge=\(Self.challenge)&code_challenge_method=S256"
            )
            #expect(badScope.headers[.location]?.contains("error=invalid_scope") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func confidentialClientUsesClientCredentialsAndIntrospects(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let created = try await Self.registerClient(
                app, admin: admin, type: "confidential",
                extra: ["grant_types": ["authorization_code", "refresh_token", "client_credentials"]])
            let clientID = try #require(created.string("client_id"))
            let secret = try #require(created.string("client_secret"))
            let wrong = try await Self.post(
                app, "/oauth2/token", ["grant_type": "client_credentials"], basic: "\(clientID):nope")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.string("error") == "invalid_client")
            let service = try await Self.post(
                app, "/oauth2/token", ["grant_type": "client_credentials"], basic: "\(clientID):\(secret)")
            #expect(service.status == .ok, "\(service.body)")
            #expect(service.string("scope") == "identity.users:read")
            #expect(service.string("refresh_token") == nil)
            let token = try #require(service.string("access_token"))
            #expect(try await app.call(.get, "/api/v1/identity/users", token: token).status == .ok)
            #expect(try await app.call(.get, "/api/v1/identity/roles", token: token).status == .forbidden)

            let active = try await Self.post(
                app, "/oauth2/introspect", ["token": token], basic: "\(clientID):\(secret)")
            #expect(active.json["active"] as? Bool == true)
            #expect(active.string("client_id") == clientID)
            let garbage = try await Self.post(
                app, "/oauth2/introspect", ["token": "x.y.z"], basic: "\(clientID):\(secret)")
            #expect(garbage.json["active"] as? Bool == false)

            let publicClient = try #require(try await Self.registerClient(app, admin: admin).string("client_id"))
            let refused = try await Self.post(app, "/oauth2/introspect", ["token": token, "client_id": publicClient])
            #expect(refused.string("error") == "invalid_client")
        }
    }

    @Test(arguments: TestBackend.available)
    func discoveryDescribesTheProvider(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let reply = try await app.call(.get, "/.well-known/openid-configuration")
            #expect(reply.status == .ok)
            let issuer = try #require(reply.string("issuer"))
            #expect(issuer.hasPrefix("http"))
            #expect(reply.string("jwks_uri") == "\(issuer)/.well-known/jwks.json")
            #expect(reply.string("token_endpoint") == "\(issuer)/oauth2/token")
            #expect(reply.json["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect(reply.json["id_token_signing_alg_values_supported"] as? [String] == ["ES256"])
        }
    }
}
