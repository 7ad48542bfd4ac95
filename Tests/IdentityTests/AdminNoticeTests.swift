import Foundation
import Identity
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct AdminNoticeTests {
    /// Another module's `identity.admin_notice.requested` event becomes one email to each active tenant admin.
    @Test(arguments: TestBackend.available)
    func adminNoticeEventMailsTheTenantAdmins(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { h in
            let (_, signup) = try await h.signup(slug: "notices", email: "ada@example.com")
            let tenant = try #require(TenantID((signup.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            // A second admin, and a plain user who must not get the notice.
            for (email, role) in [("grace@example.com", "tenant-admin"), ("bob@example.com", "user")] {
                _ = try await PermissionMatrixTests.makeUser(h, tenant: tenant, email: email, roles: [role])
            }
            let before = try h.sentMail().count
            let event = EventEnvelope(
                source: "/messaging", type: "identity.admin_notice.requested", subject: nil, tenant: tenant,
                traceparent: nil,
                data: try JSONDocument(encoding: ["subject": "Webhook endpoint disabled", "text": "Fix it, please."]))
            try await h.database.write(tenant: tenant) { tx in
                try await Outbox.append(event, aggregateType: "webhook_endpoint", aggregateID: "e1", in: tx)
            }
            let module = IdentityModule()
            let context = ModuleContext(
                database: h.database, configuration: InopsioConfiguration(), logger: TestEnvironment.logger,
                web: try WebKit.bundled(navigation: []),
                mailer: Mailer(
                    transport: FileMailTransport(directory: h.mailDirectory), from: MailAddress("no-reply@example.com"))
            )
            let backbone = EventBackbone(
                database: h.database, consumers: module.consumers(context: context), logger: TestEnvironment.logger)
            try await backbone.registerSubscriptions()
            _ = try await backbone.relayBatch(lookFirst: false)
            #expect(try await backbone.consumeBatch(group: "identity.notices", worker: "t") == 1)
            let queue = JobQueue(
                database: h.database, handlers: module.jobHandlers(context: context), logger: TestEnvironment.logger)
            #expect(try await queue.runNext(worker: "t"))
            let notices = try h.sentMail().dropFirst(before).filter { $0.contains("Webhook endpoint disabled") }
            #expect(notices.count == 2)
            #expect(notices.contains { $0.contains("ada@example.com") })
            #expect(notices.contains { $0.contains("grace@example.com") })
            #expect(!notices.contains { $0.contains("bob@example.com") })
        }
    }
}
