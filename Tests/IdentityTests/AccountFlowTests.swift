import Foundation
import HTTPTypes
import Identity
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct AccountFlowTests {
    @Test(arguments: TestBackend.available)
    func signupCreatesTenantAndAdminWhoCanSignIn(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, reply) = try await app.signup(slug: "acme")
            let user = try #require(reply.json["user"] as? [String: Any])
            #expect(user["roles"] as? [String] == ["tenant-admin"])
            #expect(user["email"] as? String == "admin@example.com")
            #expect(reply.headers[.location] == "/api/v1/identity/users/\(user["id"] as? String ?? "")")
            let me = try await app.call(.get, "/api/v1/identity/users/me", token: token)
            #expect(me.status == .ok)
            #expect(me.string("name") == "Ada Admin")
            let login = try await app.login(
                tenant: "acme", email: "ADMIN@example.com", password: "correct horse battery")
            #expect(login.status == .ok, "\(login.body)")
            #expect(login.string("token_type") == "Bearer")
            #expect(login.json["expires_in"] as? Int == 900)
            #expect(login.string("refresh_token")?.hasPrefix("inopr_") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func signupValidatesEveryFieldAtOnce(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let reply = try await app.call(
                .post, "/api/v1/identity/signup",
                json: ["tenant_slug": "A!", "tenant_name": "", "name": "", "email": "nope", "password": "password123"])
            #expect(reply.status == .unprocessableContent)
            #expect(reply.headers[.contentType] == "application/problem+json")
            let fields = Set((reply.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["tenant_slug", "tenant_name", "name", "email", "password"])
            _ = try await app.signup(slug: "taken")
            let again = try await app.call(
                .post, "/api/v1/identity/signup",
                json: [
                    "tenant_slug": "taken", "tenant_name": "Other", "name": "Bob", "email": "bob@example.com",
                    "password": "another long secret",
                ])
            #expect(again.status == .conflict)
        }
    }

    @Test func passwordPolicyRefusesShortCommonAndEmailPasswords() {
        #expect(PasswordPolicy.issues(password: "short", email: "a@b.co").first?.code == "too_short")
        #expect(PasswordPolicy.issues(password: "qwertyuiop", email: "a@b.co").first?.code == "too_common")
        #expect(PasswordPolicy.issues(password: "Password123", email: "a@b.co").first?.code == "too_common")
        #expect(PasswordPolicy.issues(password: "aaaaaaaaaaaa", email: "a@b.co").first?.code == "too_common")
        #expect(
            PasswordPolicy.issues(password: "jane.doe@example.com", email: "jane.doe@example.com").first?.code
                == "matches_email")
        #expect(PasswordPolicy.issues(password: "correct horse battery", email: "a@b.co").isEmpty)
    }

    @Test(arguments: TestBackend.available)
    func wrongPasswordUnknownEmailAndUnknownTenantAnswerAlike(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            _ = try await app.signup(slug: "acme")
            let wrongPassword = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "nope nope nope")
            let unknownEmail = try await app.login(
                tenant: "acme", email: "ghost@example.com", password: "nope nope nope")
            let unknownTenant = try await app.login(tenant: "nowhere", email: "admin@example.com", password: "x")
            for reply in [wrongPassword, unknownEmail, unknownTenant] {
                #expect(reply.status == .unauthorized)
                #expect(reply.string("type") == "/problems/invalid-credentials")
                #expect(reply.string("detail") == wrongPassword.string("detail"))
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func refreshRotatesAndReplayingARotatedTokenRevokesTheFamily(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (_, signup) = try await app.signup(slug: "acme")
            let first = try #require((signup.json["tokens"] as? [String: Any])?["refresh_token"] as? String)
            let second = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": first])
            #expect(second.status == .ok, "\(second.body)")
            let secondToken = try #require(second.string("refresh_token"))
            #expect(secondToken != first)
            // The stolen first token is replayed: refused, and the legitimate holder's newer token dies with it.
            let replay = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": first])
            #expect(replay.status == .unauthorized)
            let afterReplay = try await app.call(
                .post, "/api/v1/identity/refresh", json: ["refresh_token": secondToken])
            #expect(afterReplay.status == .unauthorized)
            let admin = try #require(signup.json["tokens"] as? [String: Any])["access_token"] as? String
            let audit = try await app.call(.get, "/api/v1/identity/audit?action=token.", token: admin)
            let actions = (audit.json["data"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.contains("token.reuse_detected"))
            #expect(actions.contains("token.refreshed"))
        }
    }

    @Test(arguments: TestBackend.available)
    func refreshTokensExpireWhenIdleAndAfterTheAbsoluteLifetime(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (_, signup) = try await app.signup(slug: "acme")
            var token = try #require((signup.json["tokens"] as? [String: Any])?["refresh_token"] as? String)
            app.clock.advance(by: 119 * 60)
            let stillAlive = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": token])
            #expect(stillAlive.status == .ok)
            token = try #require(stillAlive.string("refresh_token"))
            app.clock.advance(by: 121 * 60)
            let idle = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": token])
            #expect(idle.status == .unauthorized)

            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            token = try #require(login.string("refresh_token"))
            // Used every hour, the session still ends 7 days after sign-in.
            for _ in 0..<(7 * 24 - 1) {
                app.clock.advance(by: 3600)
                let reply = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": token])
                #expect(reply.status == .ok)
                token = reply.string("refresh_token") ?? token
            }
            app.clock.advance(by: 3600)
            let expired = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": token])
            #expect(expired.status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.available)
    func logoutEndsTheSession(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, signup) = try await app.signup(slug: "acme")
            let refresh = try #require((signup.json["tokens"] as? [String: Any])?["refresh_token"] as? String)
            let logout = try await app.call(.post, "/api/v1/identity/logout", token: token)
            #expect(logout.status == .noContent)
            let after = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": refresh])
            #expect(after.status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.available)
    func accessTokensExpireAfterFifteenMinutes(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, _) = try await app.signup(slug: "acme")
            app.clock.advance(by: 14 * 60)
            #expect(try await app.call(.get, "/api/v1/identity/users/me", token: token).status == .ok)
            app.clock.advance(by: 2 * 60)
            let expired = try await app.call(.get, "/api/v1/identity/users/me", token: token)
            #expect(expired.status == .unauthorized)
            #expect(expired.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func suspendedTenantsTokensStopWorking(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, signup) = try await app.signup(slug: "acme")
            let tenantID = try #require(TenantID((signup.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            try await TenantStore(database: app.database).setStatus(.suspended, of: tenantID)
            app.services.tenants.invalidate(tenantID)
            #expect(try await app.call(.get, "/api/v1/identity/users/me", token: token).status == .unauthorized)
            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(login.status == .unauthorized)
        }
    }
}
