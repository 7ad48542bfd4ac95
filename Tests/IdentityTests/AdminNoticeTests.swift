import Foundation
import Identity
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct AdminNoticeTests {
    /// Commits `event` for `tenant`, lets Identity's notice consumer take it and runs the jobs it enqueued.
    static func deliver(_ h: IdentityHarness, _ event: EventEnvelope, tenant: TenantID, jobs: Int) async throws {
        try await h.database.write(tenant: tenant) { tx in
            try await Outbox.append(event, aggregateType: "test", aggregateID: "e1", in: tx)
        }
        let module = IdentityModule()
        let context = ModuleContext(
            database: h.database, configuration: InopsioConfiguration(), logger: TestEnvironment.logger,
            web: try WebKit.bundled(navigation: [], modules: [IdentityModule()]),
            mailer: Mailer(
                transport: FileMailTransport(directory: h.mailDirectory), from: MailAddress("no-reply@example.com")))
        let backbone = EventBackbone(
            database: h.database, consumers: module.consumers(context: context), logger: TestEnvironment.logger)
        try await backbone.registerSubscriptions()
        _ = try await backbone.relayBatch(lookFirst: false)
        #expect(try await backbone.consumeBatch(group: "identity.notices", worker: "t") == 1)
        let queue = JobQueue(
            database: h.database, handlers: module.jobHandlers(context: context), logger: TestEnvironment.logger)
        for _ in 0..<jobs { #expect(try await queue.runNext(worker: "t")) }
    }

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
                source: "/messaging", type: AdminNotice.eventType, subject: nil, tenant: tenant, traceparent: nil,
                data: try JSONDocument(encoding: AdminNotice(subject: "Webhook endpoint disabled", text: "Fix it, please.")))
            try await Self.deliver(h, event, tenant: tenant, jobs: 1)
            let notices = try h.sentMail().dropFirst(before).filter { $0.contains("Webhook endpoint disabled") }
            #expect(notices.count == 2)
            #expect(notices.contains { $0.contains("ada@example.com") })
            #expect(notices.contains { $0.contains("grace@example.com") })
            #expect(!notices.contains { $0.contains("bob@example.com") })
        }
    }

    /// `identity.user_notice.requested` (a CRM reminder or @mention) mails that one user, if an active member of
    /// the event's tenant; another tenant's user or an unknown id gets nothing.
    @Test(arguments: TestBackend.available)
    func userNoticeEventMailsThatUserOfTheTenantOnly(_ backend: TestBackend) async throws {
        try await withIdentityApp(backend) { h in
            let (_, signup) = try await h.signup(slug: "notices", email: "ada@example.com")
            let tenant = try #require(TenantID((signup.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            let bob = try await PermissionMatrixTests.makeUser(h, tenant: tenant, email: "bob@example.com", roles: ["user"])
            let (_, other) = try await h.signup(slug: "others", email: "eve@others.example")
            let otherTenant = try #require(TenantID((other.json["tenant"] as? [String: Any])?["id"] as? String ?? ""))
            let eve = try await PermissionMatrixTests.makeUser(
                h, tenant: otherTenant, email: "mallory@others.example", roles: ["user"])
            let before = try h.sentMail().count
            for user in [bob, eve, "0194a3b2-0000-7000-8000-0000000000ff"] {
                let event = EventEnvelope(
                    source: "/crm", type: UserNotice.eventType, subject: nil, tenant: tenant, traceparent: nil,
                    data: try JSONDocument(
                        encoding: UserNotice(userID: user, subject: "Reminder: call Ada", text: "Call Ada back.")))
                try await Self.deliver(h, event, tenant: tenant, jobs: 1)
            }
            let sent = try h.sentMail().dropFirst(before)
            #expect(sent.count == 1)
            #expect(sent.first?.contains("bob@example.com") == true)
            #expect(sent.first?.contains("Reminder: call Ada") == true)
        }
    }
}
