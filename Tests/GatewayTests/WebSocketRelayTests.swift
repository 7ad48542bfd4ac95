import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization
import Testing

@Suite struct WebSocketRelayTests {
    /// An upstream WebSocket server that answers each message with `echo: <message>` and the caller's token.
    static func withEchoServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade { head, _, _ in
                let token = head.headerFields[.authorization] ?? "none"
                return .upgrade([:]) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message {
                            try await outbound.write(.text("echo: \(text) (\(token))"))
                        }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try requireValue(client.port)) }
    }

    static func routes(_ port: Int) -> String {
        #"{"upstreams": {"chat": {"targets": ["http://127.0.0.1:\#(port)"], "health_check": {"enabled": false}}}, "routes": [{"name": "chat", "match": {"path_prefix": "/ws/"}, "upstream": "chat", "auth": "authenticated"}]}"#
    }

    /// Opens a WebSocket through the gateway, sends `text` and returns the first answer (nil if none came).
    static func exchange(port: Int, headers: HTTPFields, text: String) async throws -> String? {
        let received = Mutex<String?>(nil)
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/ws/chat", configuration: .init(additionalHeaders: headers),
            logger: Logger(label: "test")
        ) { inbound, outbound, _ in
            try await outbound.write(.text(text))
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let answer) = message { received.withLock { $0 = answer } }
                break
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return received.withLock { $0 }
    }

    @Test func anAuthenticatedUpgradeIsRelayedToTheUpstreamWithTheToken() async throws {
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream), webSocket: true) { client, _, _ in
                let port = try requireValue(client.port)
                let answer = try await Self.exchange(
                    port: port, headers: [.authorization: "Bearer test:ann:"], text: "hello")
                #expect(answer == "echo: hello (Bearer test:ann:)")
            }
        }
    }

    @Test func anUpgradeFromAnotherSiteIsRefusedAndOneFromTheGatewaysOwnOriginRelayed() async throws {
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream), webSocket: true) { client, _, _ in
                let port = try requireValue(client.port)
                await #expect(throws: (any Error).self) {
                    _ = try await Self.exchange(
                        port: port, headers: [.authorization: "Bearer test:ann:", .origin: "https://evil.example"],
                        text: "hello")
                }
                let answer = try await Self.exchange(
                    port: port, headers: [.authorization: "Bearer test:ann:", .origin: "http://127.0.0.1:\(port)"],
                    text: "hi")
                #expect(answer == "echo: hi (Bearer test:ann:)")
            }
        }
    }

    @Test func anUpgradeWithoutCredentialsIsRefused() async throws {
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream), webSocket: true) { client, _, _ in
                let port = try requireValue(client.port)
                // The refused upgrade is answered by the HTTP path instead; the client's upgrade fails.
                await #expect(throws: (any Error).self) {
                    _ = try await Self.exchange(port: port, headers: [:], text: "hello")
                }
                await #expect(throws: (any Error).self) {
                    _ = try await Self.exchange(port: port, headers: [.authorization: "Bearer forged"], text: "hello")
                }
            }
        }
    }
}
