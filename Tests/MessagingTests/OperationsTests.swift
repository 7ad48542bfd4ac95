import Foundation
import HTTPTypes
import Kernel
import Platform
import TestSupport
import Testing

@testable import Messaging

/// A consumer that always fails, to make dead letters.
struct PoisonConsumer: EventConsumer {
    struct Refused: Error {}
    let group = "test.poison"
    let eventTypes = ["test.poison"]
    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws { throw Refused() }
}

@Suite struct OperationsTests {
    @Test(arguments: TestBackend.available)
    func aTenantSeesRetriesAndCancelsOnlyItsOwnJobsAndReplaysItsDeadLetters(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            var request = Jobs.Request(
                name: "test.nothing", payload: JSONDocument(unchecked: "{}"), tenant: TestAuthenticator.tenant)
            request.delay = .seconds(3600)
            let queued = request
            let enqueued = try await h.database.write(tenant: TestAuthenticator.tenant) { tx in
                try await Jobs.enqueue(queued, in: tx)
            }
            let id = try #require(enqueued)
            let mine = try await h.call(.get, "/api/v1/messaging/jobs?status=queued")
            #expect((try h.object(mine.body)["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let theirs = try await h.call(.get, "/api/v1/messaging/jobs", auth: MessagingHarness.otherAdmin)
            #expect((try h.object(theirs.body)["data"] as? [Any])?.isEmpty == true)
            #expect(
                try await h.call(.post, "/api/v1/messaging/jobs/\(id)/cancel", auth: MessagingHarness.otherAdmin).status
                    == .conflict)
            #expect(try await h.call(.post, "/api/v1/messaging/jobs/\(id)/cancel").status == .noContent)
            #expect(try await h.call(.post, "/api/v1/messaging/jobs/\(id)/retry").status == .noContent)
            let page = try await h.call(.get, "/messaging/jobs?status=queued")
            #expect(page.status == .ok)
            #expect(page.body.contains("test.nothing"))

            // A poison event dies after its one try and can be replayed by its tenant only.
            var settings = EventBackboneSettings()
            settings.maxAttempts = 1
            let backbone = EventBackbone(
                database: h.database, consumers: [PoisonConsumer()], settings: settings, logger: TestEnvironment.logger)
            try await backbone.registerSubscriptions()
            let event = try await WebhookTests.emit(h, "test.poison")
            _ = try await backbone.relayBatch(lookFirst: false)
            _ = try await backbone.consumeBatch(group: "test.poison", worker: "t")
            let dead = try await h.call(.get, "/api/v1/messaging/dead-letters")
            let letters = try #require(try h.object(dead.body)["data"] as? [[String: Any]])
            #expect(letters.compactMap { $0["event_id"] as? String } == [event])
            #expect(
                (try h.object(
                    try await h.call(.get, "/api/v1/messaging/dead-letters", auth: MessagingHarness.otherAdmin).body)[
                        "data"] as? [Any])?.isEmpty == true)
            #expect(
                try await h.call(
                    .post, "/api/v1/messaging/dead-letters/\(event)/replay", auth: MessagingHarness.otherAdmin
                )
                .status == .notFound)
            #expect(try await h.call(.get, "/messaging/dead-letters").body.contains("test.poison"))
            #expect(try await h.call(.post, "/api/v1/messaging/dead-letters/\(event)/replay").status == .noContent)
            #expect(try await backbone.deadLetters().isEmpty)
        }
    }
}
