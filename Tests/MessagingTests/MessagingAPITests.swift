import Foundation
import HTTPTypes
import Kernel
import Platform
import TestSupport
import Testing

@testable import Messaging

@Suite struct MessagingAPITests {
    @Test(arguments: TestBackend.available)
    func pauseStopsSendingAndResumeFinishes(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            // 10 per batch at 600 a minute: one batch a second.
            let (_, campaign) = try await CampaignTests.prepare(h, count: 30, rate: 600, batch: 10)
            #expect(
                try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/send", json: "{}").status == .accepted)
            #expect(try await h.queue.runNext(worker: "test"))
            #expect(h.smtp.messageCount == 10)
            #expect(try await CampaignTests.results(h, campaign)["queued"] == 20)
            let paused = try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/pause")
            #expect(paused.status == .ok, "\(paused.body)")
            #expect(try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/pause").status == .conflict)
            // The next batch's job comes due after a second and stops: its run was paused.
            try await Task.sleep(for: .seconds(1.2))
            while try await h.queue.runNext(worker: "test") {}
            #expect(h.smtp.messageCount == 10)
            #expect(try await CampaignTests.status(h, campaign) == "paused")
            #expect(try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/resume").status == .ok)
            try await h.runJobs { try await CampaignTests.status(h, campaign) == "sent" }
            #expect(h.smtp.messageCount == 30)
            let results = try await CampaignTests.results(h, campaign)
            #expect(results["sent"] == 30)
            #expect(results["recipients"] == 30)
            // Sent once, so neither sending again nor editing is allowed.
            #expect(
                try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/send", json: "{}").status == .conflict)
            #expect(try await h.call(.delete, "/api/v1/messaging/campaigns/\(campaign)").status == .conflict)
        }
    }

    @Test(arguments: TestBackend.available)
    func scheduledCampaignWaitsAndCancelStopsIt(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            let (list, campaign) = try await CampaignTests.prepare(h, count: 5)
            let at = RFC3339.string(from: Date().addingTimeInterval(1.5))
            let scheduled = try await h.call(
                .post, "/api/v1/messaging/campaigns/\(campaign)/send", json: #"{"send_at": "\#(at)"}"#)
            #expect(scheduled.status == .accepted)
            #expect(try h.object(scheduled.body)["status"] as? String == "scheduled")
            // The first batch's job waits for the time asked (not a wall-clock race: its due time is compared).
            let waiting = try await h.queue.list(status: "queued")
            let due = try #require(waiting.first?.runAt)
            #expect(abs(due.timeIntervalSince(try #require(RFC3339.date(from: at)))) < 1)
            try await h.runJobs { try await CampaignTests.status(h, campaign) == "sent" }
            #expect(h.smtp.messageCount == 5)

            // A second campaign on the same list, cancelled while scheduled: nothing is sent.
            let second = try await h.call(
                .post, "/api/v1/messaging/campaigns",
                json: #"{"name": "Later", "list_id": "\#(list)", "template_key": "newsletter"}"#)
            let id = try #require(try h.object(second.body)["id"] as? String)
            let later = RFC3339.string(from: Date().addingTimeInterval(0.5))
            #expect(
                try await h.call(.post, "/api/v1/messaging/campaigns/\(id)/send", json: #"{"send_at": "\#(later)"}"#)
                    .status == .accepted)
            #expect(try await h.call(.post, "/api/v1/messaging/campaigns/\(id)/cancel").status == .ok)
            try await Task.sleep(for: .seconds(0.7))
            while try await h.queue.runNext(worker: "test") {}
            #expect(h.smtp.messageCount == 5)
            #expect(try await CampaignTests.status(h, id) == "cancelled")
        }
    }

    @Test(arguments: TestBackend.available)
    func rejectedRecipientIsAHardBounceAndSuppressed(_ backend: TestBackend) async throws {
        try await withMessaging(backend, smtpOptions: ServerOptions(rejectRecipients: ["customer2@example.com"])) { h in
            let (_, campaign) = try await CampaignTests.prepare(h, count: 4)
            #expect(
                try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/send", json: "{}").status == .accepted)
            try await h.runJobs { try await CampaignTests.status(h, campaign) == "sent" }
            let results = try await CampaignTests.results(h, campaign)
            #expect(results["sent"] == 3)
            #expect(results["bounced"] == 1)
            let bounced = try await h.call(.get, "/api/v1/messaging/campaigns/\(campaign)/messages?status=bounced")
            let messages = try #require(try h.object(bounced.body)["data"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages.first?["email"] as? String == "customer2@example.com")
            #expect((messages.first?["error"] as? String)?.contains("550") == true)
            let suppressions = try await h.call(.get, "/api/v1/messaging/suppressions?reason=hard_bounce")
            let entries = try #require(try h.object(suppressions.body)["data"] as? [[String: Any]])
            #expect(entries.compactMap { $0["email"] as? String } == ["customer2@example.com"])
        }
    }

    @Test(arguments: TestBackend.available)
    func transactionalMailByAPIAndByEvent(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            let created = try await h.call(
                .post, "/api/v1/messaging/templates",
                json:
                    #"{"key": "welcome", "name": "Welcome", "subject": "Welcome, {{name}}", "text": "Your code is {{code}}."}"#
            )
            #expect(created.status == .created)
            let german = try await h.call(
                .post, "/api/v1/messaging/templates",
                json:
                    #"{"key": "welcome", "locale": "de", "name": "Willkommen", "subject": "Willkommen, {{name}}", "text": "Dein Code: {{code}}."}"#
            )
            #expect(german.status == .created)
            #expect(
                try await h.call(
                    .post, "/api/v1/messaging/templates",
                    json: #"{"key": "welcome", "locale": "de", "name": "x", "subject": "x", "text": "x"}"#
                ).status == .conflict)
            // An unsubscribed address still gets the mail it asked for; a complaint stops everything.
            _ = try await h.call(
                .post, "/api/v1/messaging/suppressions",
                json: #"{"email": "ann@example.com", "reason": "unsubscribed"}"#)
            _ = try await h.call(
                .post, "/api/v1/messaging/suppressions", json: #"{"email": "bob@example.com", "reason": "complaint"}"#)
            let sent = try await h.call(
                .post, "/api/v1/messaging/messages",
                json: #"{"template": "welcome", "to": "Ann Ö <ann@example.com>", "data": {"code": "1234"}}"#)
            #expect(sent.status == .accepted, "\(sent.body)")
            let messageID = try #require(try h.object(sent.body)["id"] as? String)
            let blocked = try await h.call(
                .post, "/api/v1/messaging/messages", json: #"{"template": "welcome", "to": "bob@example.com"}"#)
            #expect(try h.object(blocked.body)["status"] as? String == "suppressed")

            // Another module's event, handled as the event backbone's consumer would, in its own transaction.
            let services = MessagingServices(
                database: h.database,
                mailer: Mailer(
                    transport: FileMailTransport(directory: URL(fileURLWithPath: "/nonexistent")),
                    from: MailAddress("x@example.com")),
                clock: SystemWallClock(), logger: TestEnvironment.logger, baseURL: h.baseURL)
            let event = EventEnvelope(
                source: "/crm", type: EmailRequestConsumer.eventType, subject: nil, tenant: TestAuthenticator.tenant,
                traceparent: nil,
                data: try JSONDocument(
                    encoding: EmailRequest(
                        template: "welcome", to: "carl@example.com", name: "Carl", locale: "de-AT", data: ["code": "9"])
                ))
            try await h.database.write(tenant: TestAuthenticator.tenant) { tx in
                try await EmailRequestConsumer(services: services).handle(event, in: tx)
            }
            try await h.runJobs {
                let list = try await h.call(.get, "/api/v1/messaging/messages?status=queued")
                return (try h.object(list.body)["data"] as? [Any])?.isEmpty == true
            }
            #expect(h.smtp.messageCount == 2)
            let message = try await h.call(.get, "/api/v1/messaging/messages/\(messageID)")
            #expect(try h.object(message.body)["status"] as? String == "sent")
            #expect(try h.object(message.body)["subject"] as? String == "Welcome, Ann Ö")
            var subjects: [String: String] = [:]
            for number in 1...2 {
                let parsed = try await h.smtp.parsedMessage(number)
                subjects[parsed.to.first?.address ?? ""] = parsed.subject
                // Transactional mail carries no unsubscribe header and no tracking.
                #expect(!parsed.headers.contains { $0[0].lowercased() == "list-unsubscribe" })
            }
            #expect(subjects == ["ann@example.com": "Welcome, Ann Ö", "carl@example.com": "Willkommen, Carl"])
        }
    }

    @Test func validationPermissionsAndTenants() async throws {
        try await withMessaging(.sqlite) { h in
            let bad = try await h.call(
                .post, "/api/v1/messaging/templates",
                json: #"{"key": "Bad Key", "name": "", "subject": "x", "text": "ok", "html": "{{#open}}"}"#)
            #expect(bad.status == .unprocessableContent)
            let fields = try #require(try h.object(bad.body)["errors"] as? [[String: Any]]).compactMap {
                $0["field"] as? String
            }
            #expect(Set(fields) == ["key", "name", "html"])
            #expect(bad.headers[.contentType] == "application/problem+json")
            let unknown = try await h.call(
                .post, "/api/v1/messaging/templates",
                json: #"{"key": "k", "name": "n", "subject": "s", "text": "t", "colour": "red"}"#)
            #expect(unknown.status == .badRequest)
            let noList = try await h.call(
                .post, "/api/v1/messaging/campaigns",
                json: #"{"name": "x", "list_id": "\#(UUID().uuidString)", "template_key": "none"}"#)
            #expect(noList.status == .unprocessableContent)
            let badSegment = try await h.call(
                .post, "/api/v1/messaging/lists",
                json: #"{"name": "S", "segment": {"conditions": [{"field": "password", "op": "equals"}]}}"#)
            #expect(badSegment.status == .unprocessableContent)

            // Permissions: reading templates needs messaging.templates:read.
            let reader = "Bearer test:someone:messaging.contacts:read"
            #expect(try await h.call(.get, "/api/v1/messaging/templates", auth: reader).status == .forbidden)
            #expect(try await h.call(.get, "/api/v1/messaging/templates", auth: nil).status == .unauthorized)

            // A segment: everyone whose tier is gold, computed when asked.
            let (_, campaign) = try await CampaignTests.prepare(h, count: 9)
            let segment = try await h.call(
                .post, "/api/v1/messaging/lists",
                json:
                    #"{"name": "Gold", "segment": {"conditions": [{"field": "attributes.tier", "op": "equals", "value": "gold"}]}}"#
            )
            #expect(segment.status == .created, "\(segment.body)")
            let segmentID = try #require(try h.object(segment.body)["id"] as? String)
            let got = try await h.call(.get, "/api/v1/messaging/lists/\(segmentID)")
            #expect(try h.object(got.body)["member_count"] as? Int == 3)
            let members = try await h.call(.get, "/api/v1/messaging/lists/\(segmentID)/members?limit=2")
            #expect((try h.object(members.body)["data"] as? [Any])?.count == 2)
            #expect(try h.object(members.body)["next_cursor"] is String)

            // Preview renders with sample data and no tracking.
            let preview = try await h.call(
                .post, "/api/v1/messaging/templates/preview",
                json:
                    #"{"subject": "Hi {{name}}", "html": "<a href=\"https://x.example\">{{brand.name}}</a>", "data": {"name": "Zoë"}}"#
            )
            #expect(try h.object(preview.body)["subject"] as? String == "Hi Zoë")
            #expect(try h.object(preview.body)["html"] as? String == "<a href=\"https://x.example\">Müller</a>")

            // Another tenant sees none of it.
            #expect(
                try await h.call(.get, "/api/v1/messaging/campaigns/\(campaign)", auth: MessagingHarness.otherAdmin)
                    .status == .notFound)
            let theirs = try await h.call(.get, "/api/v1/messaging/templates", auth: MessagingHarness.otherAdmin)
            #expect((try h.object(theirs.body)["data"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func aStaleRunSendsNothingAndAnAddressSuppressedMidCampaignIsSkipped(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            // One message a second, one per batch.
            let (_, campaign) = try await CampaignTests.prepare(h, count: 3, rate: 60, batch: 1)
            #expect(
                try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/send", json: "{}").status == .accepted)
            #expect(try await h.queue.runNext(worker: "test"))
            #expect(h.smtp.messageCount == 1)
            let id = try #require(ID<Campaign>(campaign))
            let staleRun = try await h.database.read(tenant: TestAuthenticator.tenant) { tx in
                try await CampaignStore().findRow(id: id, in: tx)?.decode(column: "run_token", as: String?.self)
            }
            // Paused and resumed: a new run. The old run's job, were it still sending, sends nothing more.
            #expect(try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/pause").status == .ok)
            #expect(try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/resume").status == .ok)
            let queued = try await h.database.read(tenant: TestAuthenticator.tenant) { tx in
                try await MessageStore().queued(campaign: id, limit: 10, in: tx)
            }
            #expect(queued.count == 2)
            let services = MessagingServices(
                database: h.database,
                mailer: Mailer(
                    transport: SMTPMailTransport(
                        configuration: SMTPConfiguration(host: "127.0.0.1", port: h.smtp.port, security: .none)),
                    from: MailAddress("x@example.com")),
                clock: SystemWallClock(), logger: TestEnvironment.logger, baseURL: h.baseURL)
            _ = try await Delivery(services: services).send(
                queued, tenant: TestAuthenticator.tenant, run: staleRun)
            #expect(h.smtp.messageCount == 1)
            // One of the two left unsubscribes before the new run reaches it.
            let leaving = try #require(queued.last?.email)
            _ = try await h.call(
                .post, "/api/v1/messaging/suppressions", json: #"{"email": "\#(leaving)", "reason": "unsubscribed"}"#)
            try await h.runJobs { try await CampaignTests.status(h, campaign) == "sent" }
            #expect(h.smtp.messageCount == 2)
            let results = try await CampaignTests.results(h, campaign)
            #expect(results["sent"] == 2)
            #expect(results["suppressed"] == 1)
        }
    }
}
