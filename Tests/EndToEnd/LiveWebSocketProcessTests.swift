import Foundation
import HTTPTypes
import HummingbirdWSClient
import Kernel
import Logging
import Platform
import Synchronization
import TestSupport
import Testing

/// The live updates' WebSocket in a real `inopsio serve` (the whole platform in one process, the gateway's edge
/// in front): a signed-up admin opens it with her token and receives an event committed to her tenant.
@Suite(.serialized) struct LiveWebSocketProcessTests {
    @Test func anEventCommittedToTheTenantArrivesOverTheWebSocket() async throws {
        let directory = try IdentityProcessTests.dataDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let server = try InopsioProcess(["serve", "--port", "0", "--data-dir", data])
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let token = try #require(try await IdentityProcessTests.signup(port, slug: "live")["access_token"] as? String)
        var configuration = InopsioConfiguration()
        configuration.dataDirectory = data
        let received = Mutex<[String]>([])
        try await DatabaseConnector.withDatabase(configuration: configuration, logger: TestEnvironment.logger) {
            database in
            let tenant = try #require(try await TenantStore(database: database).find(slug: "live")).id
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/api/v1/messaging/stream?types=messaging.*",
                configuration: .init(additionalHeaders: [.authorization: "Bearer \(token)"]),
                logger: Logger(label: "test")
            ) { inbound, outbound, _ in
                // Committed by this process on the server's database; the server relays it (polling: SQLite has
                // no notifications between processes) and its live fan-out hands it to the socket.
                let event = EventEnvelope(
                    source: "/e2e", type: "messaging.e2e.ping", subject: "p", tenant: tenant, traceparent: nil,
                    data: try JSONDocument(encoding: ["n": 1]))
                try await database.write(tenant: tenant) { tx in
                    try await Outbox.append(event, aggregateType: "e2e", aggregateID: "p", in: tx)
                }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { received.withLock { $0.append(text) } }
                    break
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
        let first = try #require(received.withLock { $0 }.first)
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(envelope["type"] as? String == "messaging.e2e.ping")
        #expect(envelope["specversion"] as? String == "1.0")
    }
}
