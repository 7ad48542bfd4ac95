import Foundation
import HTTPTypes
import Kernel
import Platform
import TestSupport
import Testing

@testable import Identity

/// Every identity route, called as each built-in role, as another tenant's admin and anonymously: exactly the
/// expected status, so a permission that is missing or too broad fails here.
@Suite struct PermissionMatrixTests {
    enum Caller: String, CaseIterable {
        case anonymous, otherAdmin, user, auditor, securityAnalyst, manager, admin
    }

    struct Row {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: Any]?
        /// Expected status per caller; callers run in `Caller.allCases` order, so `admin` (often the one whose
        /// call changes state) goes last.
        let expected: [Caller: HTTPResponse.Status]

        init(
            _ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil,
            _ expected: [Caller: HTTPResponse.Status]
        ) {
            self.method = method
            self.path = path
            self.body = body
            self.expected = expected
        }
    }

    /// Statuses for "everyone in the tenant may": each signed-in caller gets `status`, anonymous 401.
    static func everyone(_ status: HTTPResponse.Status) -> [Caller: HTTPResponse.Status] {
        var result: [Caller: HTTPResponse.Status] = [.anonymous: .unauthorized]
        for caller in Caller.allCases where caller != .anonymous { result[caller] = status }
        return result
    }

    /// The same status for every caller, signed in or not.
    static func all(_ status: HTTPResponse.Status) -> [Caller: HTTPResponse.Status] {
        Dictionary(uniqueKeysWithValues: Caller.allCases.map { ($0, status) })
    }

    /// Statuses for a permission held by `allowed` roles: they get `ok`, the other roles 403, another tenant's
    /// admin `other` (404 for another tenant's record, or `ok` for a collection of its own tenant).
    static func only(
        _ allowed: Set<Caller>, ok: HTTPResponse.Status = .ok, other: HTTPResponse.Status = .notFound
    ) -> [Caller: HTTPResponse.Status] {
        var result: [Caller: HTTPResponse.Status] = [.anonymous: .unauthorized, .otherAdmin: other]
        for caller in [Caller.user, .auditor, .securityAnalyst, .manager, .admin] {
            result[caller] = allowed.contains(caller) ? ok : .forbidden
        }
        return result
    }

    static func makeUser(_ app: IdentityHarness, tenant: TenantID, email: String, roles: [String]) async throws
        -> String
    {
        let hash = try await app.services.hasher.hash("correct horse battery")
        let now = app.clock.now()
        let user = try await app.database.write(tenant: tenant) { tx in
            try await UserStore().insert(
                email: email, name: "Test", passwordHash: hash, status: .active, roles: roles, now: now, in: tx)
        }
        return user.id.description
    }

    @Test(arguments: TestBackend.available)
    func everyIdentityRouteAnswersEachCallerAsExpected(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (adminToken, signup) = try await app.signup(slug: "acme")
            let tenant = try #require(TenantID((signup.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            let (otherToken, _) = try await app.signup(slug: "globex", email: "boss@globex.example")
            var tokens: [Caller: String] = [.admin: adminToken, .otherAdmin: otherToken]
            let roleOf: [Caller: String] = [
                .user: "user", .auditor: "auditor", .securityAnalyst: "security-analyst", .manager: "manager",
            ]
            for (caller, role) in roleOf {
                let email = "\(role)@example.com"
                _ = try await Self.makeUser(app, tenant: tenant, email: email, roles: [role])
                let login = try await app.login(tenant: "acme", email: email, password: "correct horse battery")
                #expect(login.status == .ok, "\(login.body)")
                tokens[caller] = login.string("access_token")
            }
            let target = try await Self.makeUser(app, tenant: tenant, email: "target@example.com", roles: ["user"])
            let victim = try await Self.makeUser(app, tenant: tenant, email: "victim@example.com", roles: ["user"])
            let targetLogin = try await app.login(
                tenant: "acme", email: "target@example.com", password: "correct horse battery")
            let targetToken = try #require(targetLogin.string("access_token"))
            let sessions = try await app.call(.get, "/api/v1/identity/sessions", token: targetToken)
            let targetSession = try #require((sessions.json["data"] as? [[String: Any]])?.first?["id"] as? String)
            _ = try await app.call(
                .post, "/api/v1/identity/roles", token: adminToken,
                json: ["name": "custom", "permissions": ["identity.users:read"]])
            let key = try await app.call(
                .post, "/api/v1/identity/api-keys", token: adminToken,
                json: ["name": "k", "permissions": ["identity.users:read"]])
            let keyID = try #require(key.string("id"))
            let oauthClient = try await app.call(
                .post, "/api/v1/identity/oauth-clients", token: adminToken,
                json: ["name": "c", "client_type": "public", "redirect_uris": ["https://app.example/cb"]])
            let clientID = try #require(oauthClient.string("client_id"))

            let all = Set(Caller.allCases).subtracting([.anonymous, .otherAdmin])
            let readers: Set<Caller> = [.admin, .manager, .auditor, .securityAnalyst]
            let base = "/api/v1/identity"
            let rows: [Row] = [
                Row(
                    .get, "/.well-known/jwks.json", nil,
                    Dictionary(uniqueKeysWithValues: Caller.allCases.map { ($0, .ok) })),
                Row(.get, "\(base)/users/me", nil, Self.everyone(.ok)),
                Row(.patch, "\(base)/users/me", ["locale": "fr"], Self.everyone(.ok)),
                Row(.post, "\(base)/users/me/mfa/totp", nil, Self.everyone(.created)),
                Row(.get, "\(base)/users", nil, Self.only(readers, other: .ok)),
                Row(.get, "\(base)/users/\(target)", nil, Self.only(readers)),
                Row(.patch, "\(base)/users/\(target)", ["name": "Renamed"], Self.only([.admin])),
                Row(.delete, "\(base)/users/\(victim)", nil, Self.only([.admin], ok: .noContent)),
                Row(.get, "\(base)/roles", nil, Self.only([.admin, .auditor], other: .ok)),
                Row(.get, "\(base)/roles/custom", nil, Self.only([.admin, .auditor])),
                Row(.patch, "\(base)/roles/custom", ["description": "d"], Self.only([.admin])),
                Row(.delete, "\(base)/roles/custom", nil, Self.only([.admin], ok: .noContent)),
                Row(.get, "\(base)/api-keys", nil, Self.only([.admin, .auditor], other: .ok)),
                Row(
                    .post, "\(base)/api-keys", ["name": "n", "permissions": ["identity.users:read"]],
                    Self.only([.admin], ok: .created, other: .created)),
                Row(.get, "\(base)/api-keys/\(keyID)", nil, Self.only([.admin, .auditor])),
                Row(.delete, "\(base)/api-keys/\(keyID)", nil, Self.only([.admin], ok: .noContent)),
                Row(.get, "\(base)/sessions", nil, Self.everyone(.ok)),
                Row(
                    .delete, "\(base)/sessions/\(targetSession)", nil,
                    Self.only([.admin], ok: .noContent).mapValues { $0 == .forbidden ? .notFound : $0 }),
                Row(.get, "\(base)/audit", nil, Self.only([.admin, .auditor, .securityAnalyst], other: .ok)),
                Row(
                    .get, "\(base)/audit/export.csv", nil, Self.only([.admin, .auditor, .securityAnalyst], other: .ok)),
                Row(.get, "\(base)/audit/verify", nil, Self.only([.admin, .auditor, .securityAnalyst], other: .ok)),
                Row(.get, "\(base)/tenant", nil, Self.only([.admin, .auditor], other: .ok)),
                Row(.patch, "\(base)/tenant", ["theme_colour": "#123456"], Self.only([.admin], other: .ok)),
                Row(.post, "\(base)/roles", ["name": "made-here"], Self.only([.admin], ok: .created, other: .created)),
                Row(.get, "\(base)/oauth-clients", nil, Self.only([.admin, .auditor], other: .ok)),
                Row(
                    .post, "\(base)/oauth-clients",
                    ["name": "n", "client_type": "public", "redirect_uris": ["https://app.example/cb"]],
                    Self.only([.admin], ok: .created, other: .created)),
                Row(.get, "\(base)/oauth-clients/\(clientID)", nil, Self.only([.admin, .auditor])),
                Row(.delete, "\(base)/oauth-clients/\(clientID)", nil, Self.only([.admin], ok: .noContent)),
                Row(.get, "/oauth2/userinfo", nil, Self.everyone(.ok)),
                Row(.get, "\(base)/invitations", nil, Self.only(readers, other: .ok)),
                Row(
                    .post, "\(base)/invitations", ["email": "new@example.com"],
                    Self.only([.admin], ok: .created, other: .created)),
                Row(.post, "\(base)/users/me/verify-email", nil, Self.everyone(.accepted)),
                Row(.get, "\(base)/providers", nil, Self.only([.admin, .auditor], other: .ok)),
                Row(.delete, "\(base)/providers/\(UUID().uuidString)", nil, Self.only([.admin], ok: .notFound)),
                Row(
                    .post, "\(base)/users/me/mfa/totp/confirm", ["code": "000000"],
                    Self.everyone(.unprocessableContent)),
                Row(
                    .delete, "\(base)/users/me/mfa/totp", ["password": "not the password"],
                    Self.everyone(.unprocessableContent)),
                Row(
                    .post, "\(base)/users/me/password",
                    ["current_password": "not the password", "new_password": "a new long secret"],
                    Self.everyone(.unprocessableContent)),
                Row(.get, "\(base)/providers/\(UUID().uuidString)", nil, Self.only([.admin, .auditor], ok: .notFound)),
                Row(
                    .post, "\(base)/providers",
                    ["name": "Nowhere", "issuer": "http://127.0.0.1:9/realm", "client_id": "c"],
                    Self.only([.admin], ok: .unprocessableContent, other: .unprocessableContent)),
                // Public routes answer every caller alike (here: refusing the same bad input).
                Row(.get, "\(base)/openapi.json", nil, Self.all(.ok)),
                Row(.get, "/.well-known/openid-configuration", nil, Self.all(.ok)),
                Row(.post, "\(base)/signup", ["tenant_slug": "x"], Self.all(.badRequest)),
                Row(
                    .post, "\(base)/login", ["tenant": "acme", "email": "nobody@example.com", "password": "wrong one"],
                    Self.all(.unauthorized)),
                Row(.post, "\(base)/refresh", ["refresh_token": "inopr_nothing"], Self.all(.unauthorized)),
                Row(
                    .post, "\(base)/invitations/accept", ["token": "inopi_nothing", "password": "long enough secret"],
                    Self.all(.badRequest)),
                // Anyone may ask, signed in or not; the same address gets three mails an hour (`MailQuota`), then
                // 429, whoever asks.
                Row(
                    .post, "\(base)/password-reset", ["tenant": "acme", "email": "nobody@example.com"],
                    Dictionary(
                        uniqueKeysWithValues: Caller.allCases.enumerated().map {
                            ($1, $0 < 3 ? HTTPResponse.Status.accepted : .tooManyRequests)
                        })),
                Row(
                    .post, "\(base)/password-reset/confirm",
                    ["token": "inopw_nothing", "password": "long enough secret"],
                    Self.all(.badRequest)),
                Row(.post, "\(base)/verify-email", ["token": "inopv_nothing"], Self.all(.badRequest)),
                Row(.post, "\(base)/logout", nil, Self.everyone(.noContent)),
            ]
            #expect(all.count == 5)
            for row in rows {
                for caller in Caller.allCases {
                    let expected = try #require(row.expected[caller], "\(row.method) \(row.path) has no \(caller)")
                    let reply = try await app.call(row.method, row.path, token: tokens[caller], json: row.body)
                    #expect(
                        reply.status == expected,
                        "\(row.method) \(row.path) as \(caller): \(reply.status.code), expected \(expected.code) \(reply.body)"
                    )
                    if reply.status.code >= 400 {
                        #expect(reply.headers[.contentType] == "application/problem+json")
                    }
                }
            }
        }
    }
}
