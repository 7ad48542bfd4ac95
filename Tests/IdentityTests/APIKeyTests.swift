import Foundation
import HTTPTypes
import Identity
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct APIKeyTests {
    @Test(arguments: TestBackend.available)
    func keyIsShownOnceWorksAsBearerWithItsPermissionsAndStopsWhenRevoked(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let created = try await app.call(
                .post, "/api/v1/identity/api-keys", token: admin,
                json: ["name": "CI reader", "permissions": ["identity.users:read"]])
            #expect(created.status == .created, "\(created.body)")
            let secret = try #require(created.string("secret"))
            let id = try #require(created.string("id"))
            #expect(secret.hasPrefix("inop_") && secret.count == 48)
            #expect(created.string("prefix") == String(secret.prefix(12)))
            let shown = try await app.call(.get, "/api/v1/identity/api-keys/\(id)", token: admin)
            #expect(shown.status == .ok)
            #expect(shown.json["secret"] == nil)
            #expect(!shown.body.contains(secret))

            #expect(try await app.call(.get, "/api/v1/identity/users", token: secret).status == .ok)
            #expect(try await app.call(.get, "/api/v1/identity/roles", token: secret).status == .forbidden)
            #expect(try await app.call(.get, "/api/v1/identity/users/me", token: secret).status == .forbidden)
            let used = try await app.call(.get, "/api/v1/identity/api-keys/\(id)", token: admin)
            #expect(used.string("last_used_at") != nil)

            #expect(try await app.call(.delete, "/api/v1/identity/api-keys/\(id)", token: admin).status == .noContent)
            let revoked = try await app.call(.get, "/api/v1/identity/users", token: secret)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func expiredKeysAndUnknownKeysAreRefused(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let expires = RFC3339.string(from: app.clock.now().addingTimeInterval(3600))
            let created = try await app.call(
                .post, "/api/v1/identity/api-keys", token: admin,
                json: ["name": "short", "permissions": ["identity.users:read"], "expires_at": expires])
            let secret = try #require(created.string("secret"))
            #expect(try await app.call(.get, "/api/v1/identity/users", token: secret).status == .ok)
            app.clock.advance(by: 3601)
            #expect(try await app.call(.get, "/api/v1/identity/users", token: secret).status == .unauthorized)
            let forged = "inop_" + String(repeating: "A", count: 43)
            #expect(try await app.call(.get, "/api/v1/identity/users", token: forged).status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.available)
    func keysCannotCarryPermissionsTheirCreatorLacksOrUnknownOnes(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let unknown = try await app.call(
                .post, "/api/v1/identity/api-keys", token: admin,
                json: ["name": "x", "permissions": ["erp.nothing:read"]])
            #expect(unknown.status == .unprocessableContent)
            let limited = try await app.call(
                .post, "/api/v1/identity/api-keys", token: admin,
                json: ["name": "limited", "permissions": ["identity.api-keys:write"]])
            let secret = try #require(limited.string("secret"))
            let escalate = try await app.call(
                .post, "/api/v1/identity/api-keys", token: secret,
                json: ["name": "more", "permissions": ["identity.users:write"]])
            #expect(escalate.status == .forbidden)
        }
    }
}
