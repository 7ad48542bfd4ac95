import AsyncHTTPClient
import Foundation
import Kernel
import NIOCore
import Platform
import TestSupport
import Testing

@testable import Messaging

/// Reads a server-sent event stream until `until` holds for the events read so far.
func readEvents(
    port: Int, token: String, query: String = "", lastEventID: String? = nil,
    until: @Sendable ([(id: String, type: String)]) -> Bool, afterConnect: @Sendable () async throws -> Void
) async throws -> [(id: String, type: String)] {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/messaging/stream\(query)")
    request.headers.add(name: "authorization", value: token)
    if let lastEventID { request.headers.add(name: "last-event-id", value: lastEventID) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
    #expect(response.status == .ok)
    #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
    var events: [(id: String, type: String)] = []
    var text = ""
    var connected = false
    for try await chunk in response.body {
        text += String(buffer: chunk)
        while let end = text.range(of: "\n\n") {
            let frame = text[..<end.lowerBound]
            text = String(text[end.upperBound...])
            if frame.hasPrefix(": connected") && !connected {
                connected = true
                try await afterConnect()
            }
            var id = ""
            var type = ""
            for line in frame.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            }
            if !id.isEmpty { events.append((id, type)) }
        }
        if until(events) { break }
    }
    return events
}

@Suite struct LiveUpdateTests {
    @Test(arguments: TestBackend.available)
    func streamsTheTenantsVisibleEventsAndReplaysAfterLastEventID(_ backend: TestBackend) async throws {
        try await withMessaging(backend, live: true) { h in
            let port = try #require(h.client.port)
            let crmReader = "Bearer test:ann:crm.leads:read"
            // Ann reads CRM: she sees the CRM events of her tenant, not ERP's (she may read nothing there), not
            // another tenant's. No `types` filter: her permissions alone decide.
            let seen = try await readEvents(
                port: port, token: crmReader,
                until: { $0.count >= 2 },
                afterConnect: {
                    _ = try await WebhookTests.emit(h, "erp.order.paid")
                    _ = try await WebhookTests.emit(h, "crm.lead.created", tenant: TestAuthenticator.otherTenant)
                    _ = try await WebhookTests.emit(h, "crm.lead.created")
                    _ = try await WebhookTests.emit(h, "crm.deal.won")
                    try await h.deliverEvents()
                })
            #expect(seen.map(\.type) == ["crm.lead.created", "crm.deal.won"])

            // Reconnecting after the first event replays what came after it.
            let replayed = try await readEvents(
                port: port, token: crmReader, lastEventID: seen[0].id, until: { $0.count >= 1 }, afterConnect: {})
            #expect(replayed.first?.id == seen[1].id)

            // Someone who may read nothing of CRM sees none of it; no credentials, no stream.
            let erpReader = "Bearer test:bob:erp.orders:read"
            let bob = try await readEvents(
                port: port, token: erpReader, until: { $0.count >= 1 },
                afterConnect: {
                    _ = try await WebhookTests.emit(h, "crm.lead.created")
                    _ = try await WebhookTests.emit(h, "erp.invoice.issued")
                    try await h.deliverEvents()
                })
            #expect(bob.map(\.type) == ["erp.invoice.issued"])
            var anonymous = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/messaging/stream")
            anonymous.method = .GET
            let refused = try await HTTPClient.shared.execute(anonymous, timeout: .seconds(30))
            #expect(refused.status == .unauthorized)
        }
    }
}
