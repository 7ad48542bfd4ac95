import Foundation
import HTTPTypes
import Kernel
import TestSupport
import Testing

/// Mails Identity sends on request are limited per address and per user (`MailQuota`): 429 with `Retry-After`,
/// never revealing whether an address has an account.
@Suite struct MailQuotaTests {
    @Test(arguments: TestBackend.available)
    func verificationMailsStopAtTheLimitAndResumeAfterTheWindow(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            // The sign-up itself mailed the first link: two more within the hour, then 429.
            let (token, _) = try await app.signup(slug: "acme")
            var statuses: [HTTPResponse.Status] = []
            var last: IdentityHarness.Reply?
            for _ in 0..<4 {
                let reply = try await app.call(.post, "/api/v1/identity/users/me/verify-email", token: token)
                statuses.append(reply.status)
                last = reply
            }
            #expect(statuses == [.accepted, .accepted, .tooManyRequests, .tooManyRequests])
            let retryAfter = try #require(last?.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 0 && retryAfter <= 3600)
            #expect(last?.string("type") == "/problems/too-many-mails")
            #expect(try app.sentMail().count == 3)
            app.clock.advance(by: 3601)
            // A new window (the 15-minute access token is renewed by signing in again).
            let login = try await app.login(
                tenant: "acme", email: "admin@example.com", password: "correct horse battery")
            let fresh = try #require(login.string("access_token"))
            let again = try await app.call(.post, "/api/v1/identity/users/me/verify-email", token: fresh)
            #expect(again.status == .accepted)
        }
    }

    @Test(arguments: TestBackend.available)
    func passwordResetAnswersTheSameForAddressesWithAndWithoutAnAccount(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            _ = try await app.signup(slug: "acme")
            func statuses(_ email: String) async throws -> [HTTPResponse.Status] {
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<5 {
                    let reply = try await app.call(
                        .post, "/api/v1/identity/password-reset", json: ["tenant": "acme", "email": email])
                    statuses.append(reply.status)
                    if reply.status == .tooManyRequests { #expect(reply.headers[.retryAfter] != nil) }
                }
                return statuses
            }
            let existing = try await statuses("admin@example.com")
            let unknown = try await statuses("nobody@example.com")
            #expect(existing == [.accepted, .accepted, .accepted, .tooManyRequests, .tooManyRequests])
            #expect(unknown == existing)
        }
    }

    @Test(arguments: TestBackend.available)
    func invitationsToOneAddressAreLimitedAcrossTenants(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<4 {
                let (admin, _) = try await app.signup(slug: "org\(index)", email: "admin\(index)@example.com")
                let reply = try await app.call(
                    .post, "/api/v1/identity/invitations", token: admin, json: ["email": "target@example.com"])
                statuses.append(reply.status)
            }
            #expect(statuses == [.created, .created, .created, .tooManyRequests])
            let invitations = try app.sentMail().filter { $0.contains("target@example.com") }
            #expect(invitations.count == 3)
        }
    }
}
