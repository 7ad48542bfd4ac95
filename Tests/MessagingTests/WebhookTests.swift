import Foundation
import HTTPTypes
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import Messaging

/// `Tests/webhooks/receiver.py`: a receiver that verifies signatures with the svix library.
final class WebhookReceiver: Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("webhooks/receiver.py").path
    let directory: URL
    let port: Int
    private let process: ChildProcess

    private init(directory: URL, port: Int, process: ChildProcess) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    static func start() async throws -> WebhookReceiver {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data().write(to: directory.appendingPathComponent("secrets"))
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, directory.path]
        let log = directory.appendingPathComponent("receiver.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
        for _ in 0..<300 {
            if let text = try? String(contentsOf: directory.appendingPathComponent("port"), encoding: .utf8),
                let port = Int(text)
            {
                return WebhookReceiver(directory: directory, port: port, process: process)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        throw TestServerError(
            description: "receiver.py did not start: "
                + ((try? String(contentsOf: log, encoding: .utf8)) ?? ""))
    }

    func stop() async {
        if process.isRunning {
            process.terminate()
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var url: String { "http://127.0.0.1:\(port)/hooks" }

    func trust(_ secrets: [String]) throws {
        try Data(secrets.joined(separator: "\n").utf8).write(to: directory.appendingPathComponent("secrets"))
    }

    func failing(_ on: Bool) throws {
        let file = directory.appendingPathComponent("fail")
        if on { try Data().write(to: file) } else { try? FileManager.default.removeItem(at: file) }
    }

    struct Received: Decodable {
        let verified: Bool
        let secret_index: Int?
        let id: String?
        let type: String?
        let signatures: Int
        let failing: Bool
    }

    var received: [Received] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("received.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Received.self, from: Data($0.utf8)) }
    }
}

func withReceiver(_ body: (WebhookReceiver) async throws -> Void) async throws {
    let receiver = try await WebhookReceiver.start()
    do {
        try await body(receiver)
        await receiver.stop()
    } catch {
        await receiver.stop()
        throw error
    }
}

@Suite struct WebhookTests {
    /// Commits an event of `type` for `tenant`, as a module would with its change.
    static func emit(_ h: MessagingHarness, _ type: String, tenant: TenantID = TestAuthenticator.tenant) async throws
        -> String
    {
        let event = EventEnvelope(
            source: "/test", type: type, subject: nil, tenant: tenant, traceparent: nil,
            data: try JSONDocument(encoding: ["name": "Ada Müller"]))
        try await h.database.write(tenant: tenant) { tx in
            try await Outbox.append(event, aggregateType: "test", aggregateID: UUID().uuidString, in: tx)
        }
        return event.id
    }

    /// Delivers events, then runs jobs until no delivery of the endpoint is pending.
    static func settle(_ h: MessagingHarness, endpoint: String) async throws {
        try await h.deliverEvents()
        try await h.runJobs {
            let pending = try await h.call(.get, "/api/v1/messaging/webhooks/\(endpoint)/deliveries?status=pending")
            return (try h.object(pending.body)["data"] as? [Any])?.isEmpty == true
        }
    }

    @Test(arguments: TestBackend.available)
    func svixVerifiesOurDeliveriesIncludingAcrossASecretRotation(_ backend: TestBackend) async throws {
        try await withMessaging(backend, allowedNetworks: ["127.0.0.0/8"]) { h in
            try await withReceiver { receiver in
                let created = try await h.call(
                    .post, "/api/v1/messaging/webhooks",
                    json: #"{"url": "\#(receiver.url)", "event_types": ["crm.lead.created", "erp.*"]}"#)
                #expect(created.status == .created, "\(created.body)")
                let endpoint = try h.object(created.body)
                let id = try #require(endpoint["id"] as? String)
                let secret = try #require(endpoint["secret"] as? String)
                #expect(secret.hasPrefix("whsec_"))
                let shown = try await h.call(.get, "/api/v1/messaging/webhooks/\(id)")
                #expect(shown.status == .ok)
                #expect(!shown.body.contains("whsec_"))
                try receiver.trust([secret])

                let lead = try await Self.emit(h, "crm.lead.created")
                let order = try await Self.emit(h, "erp.order.paid")
                _ = try await Self.emit(h, "crm.deal.won")
                _ = try await Self.emit(h, "crm.lead.created", tenant: TestAuthenticator.otherTenant)
                try await Self.settle(h, endpoint: id)
                var received = receiver.received
                #expect(received.count == 2)
                #expect(received.allSatisfy { $0.verified })
                #expect(Set(received.compactMap(\.id)) == [lead, order])
                #expect(Set(received.compactMap(\.type)) == ["crm.lead.created", "erp.order.paid"])

                // The delivery log: both succeeded with the receiver's 204.
                let log = try await h.call(.get, "/api/v1/messaging/webhooks/\(id)/deliveries")
                let deliveries = try #require(try h.object(log.body)["data"] as? [[String: Any]])
                #expect(deliveries.count == 2)
                #expect(
                    deliveries.allSatisfy {
                        $0["status"] as? String == "succeeded" && $0["last_status_code"] as? Int == 204
                    })
                let first = try #require(deliveries.first?["id"] as? String)
                let detail = try await h.call(.get, "/api/v1/messaging/webhooks/\(id)/deliveries/\(first)")
                let attempts = try #require(try h.object(detail.body)["attempts"] as? [[String: Any]])
                #expect(attempts.count == 1)

                // Rotation: for a day deliveries carry both signatures, so a receiver that still knows only the
                // old secret keeps accepting them, and one that knows only the new secret does too.
                let rotated = try await h.call(.post, "/api/v1/messaging/webhooks/\(id)/rotate-secret")
                let newSecret = try #require(try h.object(rotated.body)["secret"] as? String)
                #expect(newSecret != secret)
                _ = try await Self.emit(h, "crm.lead.created")
                try await Self.settle(h, endpoint: id)
                try receiver.trust([newSecret])
                _ = try await Self.emit(h, "erp.invoice.issued")
                try await Self.settle(h, endpoint: id)
                received = receiver.received
                #expect(received.count == 4)
                #expect(received.allSatisfy { $0.verified })
                #expect(received[2].signatures == 2 && received[3].signatures == 2)

                // A receiver trusting some other secret refuses the delivery: the check is real.
                try receiver.trust([WebhookSigner.newSecret()])
                _ = try await Self.emit(h, "crm.lead.created")
                try await h.deliverEvents()
                #expect(try await h.queue.runNext(worker: "test"))
                #expect(receiver.received.last?.verified == false)
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func failingEndpointIsRetriedThenDisabledWithANoticeAndCanBeRetriedByHand(_ backend: TestBackend) async throws {
        try await withMessaging(backend, allowedNetworks: ["127.0.0.0/8"], webhookAttempts: 2) { h in
            try await withReceiver { receiver in
                let created = try await h.call(
                    .post, "/api/v1/messaging/webhooks", json: #"{"url": "\#(receiver.url)", "event_types": ["*"]}"#)
                let endpoint = try h.object(created.body)
                let id = try #require(endpoint["id"] as? String)
                try receiver.trust([try #require(endpoint["secret"] as? String)])
                // Four failures, one success, four failures: never five in a row, so still active.
                func deliver(_ count: Int, failing: Bool) async throws {
                    try receiver.failing(failing)
                    for _ in 0..<count { _ = try await Self.emit(h, "crm.lead.created") }
                    try await Self.settle(h, endpoint: id)
                }
                try await deliver(4, failing: true)
                try await deliver(1, failing: false)
                try await deliver(4, failing: true)
                let still = try h.object(try await h.call(.get, "/api/v1/messaging/webhooks/\(id)").body)
                #expect(still["status"] as? String == "active")
                // The fifth failure in a row (two tries each) disables the endpoint.
                try await deliver(1, failing: true)
                let state = try h.object(try await h.call(.get, "/api/v1/messaging/webhooks/\(id)").body)
                #expect(state["status"] as? String == "disabled")
                #expect((state["disabled_reason"] as? String)?.contains("5 deliveries") == true)
                #expect(receiver.received.count == 19)
                let failed = try await h.call(
                    .get, "/api/v1/messaging/webhooks/\(id)/deliveries?status=failed&limit=100")
                let deliveries = try #require(try h.object(failed.body)["data"] as? [[String: Any]])
                #expect(deliveries.count == 9)
                #expect(deliveries.allSatisfy { $0["last_status_code"] as? Int == 500 && $0["attempts"] as? Int == 2 })
                // The tenant's admins are told: an event for Identity, committed with the disabling.
                let notices = try await h.database.write(tenant: TestAuthenticator.tenant) { tx in
                    try await tx.sql.raw(
                        "SELECT type FROM event_outbox WHERE type = \(bind: AdminNotice.eventType)"
                    ).all().count
                }
                #expect(notices == 1)

                // Fixed and enabled again, a failed delivery is sent again by hand.
                try receiver.failing(false)
                let delivery = try #require(deliveries.first?["id"] as? String)
                #expect(
                    try await h.call(.post, "/api/v1/messaging/webhooks/\(id)/deliveries/\(delivery)/retry").status
                        == .conflict)
                let enabled = try await h.call(
                    .put, "/api/v1/messaging/webhooks/\(id)",
                    json:
                        #"{"url": "\#(receiver.url)", "event_types": ["*"], "status": "active", "version": \#(state["version"] as? Int ?? 0)}"#
                )
                #expect(enabled.status == .ok, "\(enabled.body)")
                #expect(
                    try await h.call(.post, "/api/v1/messaging/webhooks/\(id)/deliveries/\(delivery)/retry").status
                        == .accepted)
                try await Self.settle(h, endpoint: id)
                let detail = try h.object(
                    try await h.call(.get, "/api/v1/messaging/webhooks/\(id)/deliveries/\(delivery)").body)
                #expect(detail["status"] as? String == "succeeded")
                #expect((detail["attempts"] as? [Any])?.count == 3)
            }
        }
    }

    @Test func privateLoopbackAndMetadataAddressesAreRefused() async throws {
        try await withMessaging(.sqlite) { h in
            for url in [
                "http://127.0.0.1:9/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.5/x", "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "ftp://example.com/x",
                "https://user:pass@example.com/x",
            ] {
                let refused = try await h.call(
                    .post, "/api/v1/messaging/webhooks", json: #"{"url": "\#(url)", "event_types": ["*"]}"#)
                #expect(refused.status == .unprocessableContent, "\(url): \(refused.body)")
            }
            let guardian = OutboundGuard(allowed: [])
            #expect(!guardian.isAllowed("fe80::1%eth0"))
            #expect(!guardian.isAllowed("100.64.1.1"))
            #expect(!guardian.isAllowed("not an address"))
            #expect(guardian.isAllowed("93.184.216.34"))
            #expect(guardian.isAllowed("2606:4700::1111"))
            #expect(OutboundGuard(allowed: [IPRange("10.1.0.0/16")!]).isAllowed("10.1.2.3"))
        }
    }
}
