import Foundation
import HTTPTypes
import Kernel
import Platform
import TestSupport
import Testing

@testable import Identity

/// API.md: a revoked session (sign-out, admin action, refresh-token reuse) is refused by every process within
/// seconds, not when its access token expires. Here in one process with its revocation feed running; across
/// processes in `Tests/EndToEnd/SessionRevocationProcessTests.swift`.
@Suite struct SessionRevocationTests {
    enum Ending: String, CaseIterable, CustomStringConvertible {
        case signOut, adminEndsIt, refreshTokenReused
        var description: String { rawValue }
    }

    static let cases = TestBackend.available.flatMap { backend in Ending.allCases.map { (backend, $0) } }

    @Test(arguments: cases)
    func aRevokedSessionsAccessTokenIsRefusedWithinSeconds(_ backend: TestBackend, _ ending: Ending) async throws {
        try await withIdentityApp(backend) { app in
            let feed = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for service in app.services.authenticator.services { group.addTask { try await service.run() } }
                    try await group.waitForAll()
                }
            }
            defer { feed.cancel() }
            let (admin, _) = try await app.signup(slug: "acme")
            // A second session of the same user: the one that ends.
            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            let token = try #require(login.string("access_token"))
            let refresh = try #require(login.string("refresh_token"))
            // Verified once, so the token is in the verified-token cache when the session ends.
            #expect(try await app.call(.get, "/api/v1/identity/users/me", token: token).status == .ok)
            switch ending {
            case .signOut:
                #expect(try await app.call(.post, "/api/v1/identity/logout", token: token).status == .noContent)
            case .adminEndsIt:
                let session = try #require(Self.sessionID(of: token))
                let ended = try await app.call(.delete, "/api/v1/identity/sessions/\(session)", token: admin)
                #expect(ended.status == .noContent, "\(ended.body)")
            case .refreshTokenReused:
                let rotated = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": refresh])
                #expect(rotated.status == .ok)
                let replay = try await app.call(.post, "/api/v1/identity/refresh", json: ["refresh_token": refresh])
                #expect(replay.status == .unauthorized)
            }
            let refused = try await Self.eventually {
                try await app.call(.get, "/api/v1/identity/users/me", token: token).status == .unauthorized
            }
            #expect(refused, "the revoked session's access token still worked after 10 s")
            // Other sessions go on.
            #expect(try await app.call(.get, "/api/v1/identity/users/me", token: admin).status == .ok)
        }
    }

    @Test(arguments: TestBackend.available)
    func revocationsAreReadBackFromTheTableAndForgottenAfterTheTokenLifetime(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let now = app.clock.now()
            let tenant = try #require(TenantID(UUID.v7().uuidString))
            try await app.database.write(tenant: tenant) { tx in
                try await RevokedSessions.publish(["s-1", "s-2"], now: now, in: tx)
            }
            let revoked = RevokedSessions(retention: 20 * 60)
            try await revoked.load(since: now.addingTimeInterval(-60).epochMilliseconds, database: app.database)
            #expect(revoked.contains("s-1") && revoked.contains("s-2") && !revoked.contains("s-3"))
            revoked.prune(now: now.addingTimeInterval(21 * 60))
            #expect(revoked.count == 0)
            let removed = try await RevokedSessions.deleteExpired(
                retention: 20 * 60, now: now.addingTimeInterval(21 * 60), database: app.database)
            #expect(removed == 2)
        }
    }

    /// The `sid` claim of an access token.
    static func sessionID(of token: String) -> String? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            case .object(let claims)? = try? JSONValue(parsing: String(decoding: payload, as: UTF8.self)),
            case .string(let sid)? = claims["sid"]
        else { return nil }
        return sid
    }

    /// Whether `condition` holds within 10 seconds (asked every 100 ms): a bound on waiting, not a timing assertion.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}
