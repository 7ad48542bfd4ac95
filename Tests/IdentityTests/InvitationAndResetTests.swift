import Foundation
import HTTPTypes
import Identity
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct InvitationAndResetTests {
    static func token(_ link: String?) -> String? {
        link.flatMap { URLComponents(string: "http://x\($0)")?.queryItems?.first { $0.name == "token" }?.value }
    }

    @Test(arguments: TestBackend.available)
    func invitedUserSetsAPasswordThroughTheMailedLinkOnce(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let invited = try await app.call(
                .post, "/api/v1/identity/invitations", token: admin,
                json: ["email": "Bob@Example.com", "name": "Bob Builder", "roles": ["manager"]])
            #expect(invited.status == .created, "\(invited.body)")
            #expect(invited.string("status") == "invited")
            let pending = try await app.call(.get, "/api/v1/identity/invitations", token: admin)
            #expect((pending.json["data"] as? [[String: Any]])?.count == 1)
            // An invited account cannot sign in yet.
            let early = try await app.login(tenant: "acme", email: "bob@example.com", password: "whatever it is")
            #expect(early.status == .unauthorized)

            let mail = try #require(try app.sentMail().last)
            #expect(mail.contains("Subject: You are invited to Org acme on Inopsio"))
            let token = try #require(Self.token(try app.link(to: "bob@example.com", path: "/invitations/accept")))
            let weak = try await app.call(
                .post, "/api/v1/identity/invitations/accept", json: ["token": token, "password": "password1234"])
            #expect(weak.status == .unprocessableContent)
            let accepted = try await app.call(
                .post, "/api/v1/identity/invitations/accept", json: ["token": token, "password": "bobs long secret"])
            #expect(accepted.status == .ok, "\(accepted.body)")
            let bobToken = try #require(accepted.string("access_token"))
            let me = try await app.call(.get, "/api/v1/identity/users/me", token: bobToken)
            #expect(me.string("status") == "active")
            #expect(me.json["email_verified"] as? Bool == true)
            #expect(me.json["roles"] as? [String] == ["manager"])
            let again = try await app.call(
                .post, "/api/v1/identity/invitations/accept", json: ["token": token, "password": "another long one"])
            #expect(again.status == .badRequest)
            let login = try await app.login(tenant: "acme", email: "bob@example.com", password: "bobs long secret")
            #expect(login.status == .ok)
        }
    }

    @Test(arguments: TestBackend.available)
    func passwordResetAnswersAlikeForUnknownAccountsAndEndsSessions(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let before = try app.sentMail().count
            let unknown = try await app.call(
                .post, "/api/v1/identity/password-reset", json: ["tenant": "acme", "email": "nobody@example.com"])
            #expect(unknown.status == .accepted)
            #expect(try app.sentMail().count == before)
            let known = try await app.call(
                .post, "/api/v1/identity/password-reset", json: ["tenant": "acme", "email": "admin@example.com"])
            #expect(known.status == .accepted)
            #expect(known.body == unknown.body)
            #expect(try app.sentMail().count == before + 1)
            // A second request within a minute sends nothing more.
            _ = try await app.call(
                .post, "/api/v1/identity/password-reset", json: ["tenant": "acme", "email": "admin@example.com"])
            #expect(try app.sentMail().count == before + 1)

            let token = try #require(Self.token(try app.link(to: "admin@example.com", path: "/password/reset")))
            let weak = try await app.call(
                .post, "/api/v1/identity/password-reset/confirm", json: ["token": token, "password": "short"])
            #expect(weak.status == .unprocessableContent)
            let reset = try await app.call(
                .post, "/api/v1/identity/password-reset/confirm",
                json: ["token": token, "password": "a brand new secret"])
            #expect(reset.status == .noContent, "\(reset.body)")
            let sessions = try await app.call(.get, "/api/v1/identity/sessions", token: admin)
            #expect((sessions.json["data"] as? [[String: Any]])?.isEmpty == true)
            #expect(
                try await app.login(tenant: "acme", email: "admin@example.com", password: "correct horse battery")
                    .status
                    == .unauthorized)
            #expect(
                try await app.login(tenant: "acme", email: "admin@example.com", password: "a brand new secret").status
                    == .ok)
            app.clock.advance(by: 3601)
            let reused = try await app.call(
                .post, "/api/v1/identity/password-reset/confirm",
                json: ["token": token, "password": "yet another secret"])
            #expect(reused.status == .badRequest)
        }
    }

    @Test(arguments: TestBackend.available)
    func signupSendsAVerificationLinkThatVerifiesTheAddress(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { app in
            let (admin, _) = try await app.signup(slug: "acme")
            let me = try await app.call(.get, "/api/v1/identity/users/me", token: admin)
            #expect(me.json["email_verified"] as? Bool == false)
            let token = try #require(Self.token(try app.link(to: "admin@example.com", path: "/verify-email")))
            #expect(
                try await app.call(.post, "/api/v1/identity/verify-email", json: ["token": token]).status == .noContent)
            let after = try await app.call(.get, "/api/v1/identity/users/me", token: admin)
            #expect(after.json["email_verified"] as? Bool == true)
            let resend = try await app.call(.post, "/api/v1/identity/users/me/verify-email", token: admin)
            #expect(resend.status == .conflict)
        }
    }
}
