import Foundation
import HTTPTypes
import Identity
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@Suite struct BruteForceTests {
    static func lockedUntil(_ app: IdentityHarness, tenant: TenantID) async throws -> Date? {
        try await app.database.read(tenant: tenant) { tx in
            try await tx.sql.raw("SELECT locked_until FROM identity_users").first()?
                .decode(column: "locked_until", as: Int64?.self).map(Date.init(epochMilliseconds:))
        }
    }

    @Test(arguments: TestBackend.available)
    func thirtyWrongPasswordsLockWithGrowingWaitsAndAreAudited(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (_, signup) = try await app.signup(slug: "acme")
            let tenant = try #require(TenantID((signup.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            var waits: [TimeInterval] = []
            for attempt in 1...30 {
                let reply = try await app.login(
                    tenant: "acme", email: "admin@example.com", password: "wrong \(attempt)")
                #expect(reply.status == .unauthorized)
                if let until = try await Self.lockedUntil(app, tenant: tenant), until > app.clock.now() {
                    waits.append(until.timeIntervalSince(app.clock.now()))
                    // While locked, even the right password is refused, with the same answer.
                    let locked = try await app.login(
                        tenant: "acme", email: "admin@example.com", password: "correct horse battery")
                    #expect(locked.status == .unauthorized)
                    #expect(locked.string("type") == "/problems/invalid-credentials")
                    // Past the longest wait, so the per-address throttle (which counts these attempts too) has
                    // also expired.
                    app.clock.advance(by: 901)
                }
            }
            #expect(waits.count == 26)
            #expect(waits.prefix(5) == [1, 2, 4, 8, 16])
            #expect(zip(waits, waits.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(waits.last == 900)
            // After the wait the right password works and the count starts again.
            let ok = try await app.login(tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(ok.status == .ok)
            let admin = ok.string("access_token")
            let audit = try await app.call(.get, "/api/v1/identity/audit?action=account.locked&limit=200", token: admin)
            #expect((audit.json["data"] as? [[String: Any]])?.count == 26)
            let failures = try await app.call(
                .get, "/api/v1/identity/audit?action=login.failed&limit=200", token: admin)
            #expect((failures.json["data"] as? [[String: Any]])?.count == 30 + 26)
            #expect(try await Self.lockedUntil(app, tenant: tenant) == nil)
        }
    }

    @Test(arguments: TestBackend.available)
    func manyFailuresFromOneAddressAreThrottledWithRetryAfter(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            _ = try await app.signup(slug: "acme")
            // Spread over unknown accounts, so no single account locks.
            for attempt in 1...100 {
                let reply = try await app.login(tenant: "acme", email: "user\(attempt)@example.com", password: "guess")
                #expect(reply.status == .unauthorized)
            }
            let throttled = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] == "1")
            app.clock.advance(by: 2)
            let ok = try await app.login(tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            #expect(ok.status == .ok)
        }
    }
}
