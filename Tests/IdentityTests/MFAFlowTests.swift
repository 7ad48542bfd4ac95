import Foundation
import HTTPTypes
import Identity
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct MFAFlowTests {
    static func code(_ secret: String, _ app: IdentityHarness, offset: Int64 = 0) -> String {
        TOTP(secret: Base32.decode(secret) ?? []).code(step: TOTP.step(at: app.clock.now()) + offset)
    }

    @Test(arguments: TestBackend.available)
    func enrolledUserSignsInWithACodeOnceAndWithBackupCodes(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, _) = try await app.signup(slug: "acme")
            let started = try await app.call(.post, "/api/v1/identity/users/me/mfa/totp", token: token)
            #expect(started.status == .created)
            let secret = try #require(started.string("secret"))
            #expect(started.string("otpauth_uri")?.hasPrefix("otpauth://totp/Inopsio:") == true)
            let wrong = try await app.call(
                .post, "/api/v1/identity/users/me/mfa/totp/confirm", token: token, json: ["code": "000000"])
            #expect(wrong.status == .unprocessableContent)
            let confirmed = try await app.call(
                .post, "/api/v1/identity/users/me/mfa/totp/confirm", token: token,
                json: ["code": Self.code(secret, app)])
            #expect(confirmed.status == .ok, "\(confirmed.body)")
            let backupCodes = try #require(confirmed.json["backup_codes"] as? [String])
            #expect(backupCodes.count == 10 && Set(backupCodes).count == 10)

            let password = "correct horse battery"
            let noCode = try await app.login(tenant: "acme", email: "admin@example.com", password: password)
            #expect(noCode.status == .unauthorized)
            #expect(noCode.string("type") == "/problems/mfa-required")
            // The code used to confirm cannot be used again in the same step; the next step's can.
            let reused = try await app.login(
                tenant: "acme", email: "admin@example.com", password: password, totp: Self.code(secret, app))
            #expect(reused.string("type") == "/problems/mfa-required")
            app.clock.advance(by: 30)
            let code = Self.code(secret, app)
            let ok = try await app.login(tenant: "acme", email: "admin@example.com", password: password, totp: code)
            #expect(ok.status == .ok, "\(ok.body)")
            let replay = try await app.login(tenant: "acme", email: "admin@example.com", password: password, totp: code)
            #expect(replay.status == .unauthorized)

            let backup = try await app.login(
                tenant: "acme", email: "admin@example.com", password: password, totp: backupCodes[3].uppercased())
            #expect(backup.status == .ok)
            let backupAgain = try await app.login(
                tenant: "acme", email: "admin@example.com", password: password, totp: backupCodes[3])
            #expect(backupAgain.status == .unauthorized)

            let audit = try await app.call(.get, "/api/v1/identity/audit?action=mfa.", token: token)
            #expect((audit.json["data"] as? [[String: Any]])?.first?["action"] as? String == "mfa.enabled")
        }
    }

    @Test(arguments: TestBackend.available)
    func turningMFAOffNeedsThePasswordAndIsRefusedWhenTheTenantRequiresIt(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, _) = try await app.signup(slug: "acme")
            let started = try await app.call(.post, "/api/v1/identity/users/me/mfa/totp", token: token)
            let secret = try #require(started.string("secret"))
            _ = try await app.call(
                .post, "/api/v1/identity/users/me/mfa/totp/confirm", token: token,
                json: ["code": Self.code(secret, app)])
            let policy = try await app.call(
                .patch, "/api/v1/identity/tenant", token: token, json: ["mfa_required_roles": ["tenant-admin"]])
            #expect(policy.status == .ok, "\(policy.body)")
            let refused = try await app.call(
                .delete, "/api/v1/identity/users/me/mfa/totp", token: token, json: ["password": "correct horse battery"]
            )
            #expect(refused.status == .conflict)
            _ = try await app.call(.patch, "/api/v1/identity/tenant", token: token, json: ["mfa_required_roles": []])
            let wrongPassword = try await app.call(
                .delete, "/api/v1/identity/users/me/mfa/totp", token: token, json: ["password": "not my password"])
            #expect(wrongPassword.status == .unprocessableContent)
            let off = try await app.call(
                .delete, "/api/v1/identity/users/me/mfa/totp", token: token, json: ["password": "correct horse battery"]
            )
            #expect(off.status == .noContent)
            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(login.status == .ok)
        }
    }

    @Test(arguments: TestBackend.available)
    func requiredButNotEnrolledUserGetsATokenThatCanOnlyEnroll(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (token, _) = try await app.signup(slug: "acme")
            let policy = try await app.call(
                .patch, "/api/v1/identity/tenant", token: token, json: ["mfa_required_roles": ["*"]])
            #expect(policy.status == .ok)
            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(login.status == .ok)
            #expect(login.string("scope") == "openid identity.mfa:enroll")
            let limited = try #require(login.string("access_token"))
            #expect(try await app.call(.get, "/api/v1/identity/users", token: limited).status == .forbidden)
            #expect(try await app.call(.post, "/api/v1/identity/users/me/mfa/totp", token: limited).status == .created)
        }
    }
}
