import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import CRM

@Suite struct LeadCaptureTests {
    /// The test tenant as a row of `tenants`, so its slug finds it.
    static func publish(_ h: CRMHarness) async throws {
        try await h.database.system { tx in
            try await tx.sql.raw(
                """
                INSERT INTO tenants (id, slug, name, created_at)
                VALUES (\(tx.bind(TestAuthenticator.tenant)), 'acme', 'Acme', 0)
                """
            ).run()
        }
    }

    static let form = #"{"first_name":"Grace","last_name":"Hopper","email":"grace@navy.example","phone":"+1 202 555 0100","company":"Navy","message":"Please call me about COBOL.","website":""}"#

    @Test(arguments: TestBackend.available)
    func aSubmissionBecomesAWebsiteLeadAndMailsTheAdmins(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            try await Self.publish(h)
            let reply = try await h.call(.post, "/api/v1/crm/public/acme/leads", json: Self.form, auth: nil)
            #expect(reply.status == .accepted, "\(reply.body)")
            let leads = try await h.call(.get, "/api/v1/crm/leads").object()["data"] as? [[String: Any]] ?? []
            #expect(leads.count == 1)
            #expect(leads.first?["source"] as? String == "website")
            #expect(leads.first?["phone"] as? String == "+12025550100")
            #expect(leads.first?["notes"] as? String == "Please call me about COBOL.")
            #expect(try await h.eventTypes() == ["crm.lead.created", "identity.admin_notice.requested"])
            // The same person again: the message joins the lead's notes, no second lead.
            let again = try await h.call(
                .post, "/api/v1/crm/public/acme/leads",
                json: Self.form.replacingOccurrences(of: "COBOL", with: "compilers"), auth: nil)
            #expect(again.status == .accepted)
            let after = try await h.call(.get, "/api/v1/crm/leads").object()["data"] as? [[String: Any]] ?? []
            #expect(after.count == 1)
            #expect((after.first?["notes"] as? String)?.contains("compilers") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func botsAndBadFormsStoreNothing(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            try await Self.publish(h)
            let bot = try await h.call(
                .post, "/api/v1/crm/public/acme/leads",
                json: Self.form.replacingOccurrences(of: #""website":"""#, with: #""website":"http://spam.example""#),
                auth: nil)
            #expect(bot.status == .accepted, "a bot is not told")
            let bad = try await h.call(
                .post, "/api/v1/crm/public/acme/leads",
                json: #"{"first_name":"","last_name":"X","email":"x@gmail.com","phone":"12345","message":"short"}"#,
                auth: nil)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.errorFields() == ["email", "first_name", "message", "phone"])
            let unknown = try await h.call(.post, "/api/v1/crm/public/nobody/leads", json: Self.form, auth: nil)
            #expect(unknown.status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/leads").ids().isEmpty)
            #expect(try await h.eventTypes().isEmpty)
        }
    }
}
