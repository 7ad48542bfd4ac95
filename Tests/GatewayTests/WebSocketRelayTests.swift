import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(3))) struct WebSocketRelayTests {
    /// An upstream WebSocket server that answers each message with `echo: <message>` and the caller's token.
    static func withEchoServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 4 << 20))) { head, _, _ in
                let token = head.headerFields[.authorization] ?? "none"
                return .upgrade([:]) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 4 << 20) {
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
    static func exchange(port: Int, headers: HTTPFields, text: String, after pause: Duration = .zero) async throws
        -> String?
    {
        let received = Mutex<String?>(nil)
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/ws/chat",
            configuration: .init(maxFrameSize: 4 << 20, additionalHeaders: headers),
            logger: Logger(label: "test")
        ) { inbound, outbound, _ in
            if pause > .zero { try await Task.sleep(for: pause) }
            try await outbound.write(.text(text))
            for try await message in inbound.messages(maxSize: 4 << 20) {
                if case .text(let answer) = message { received.withLock { $0 = answer } }
                break
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return received.withLock { $0 }
    }

    @Test func anAuthenticatedUpgradeIsRelayedToTheUpstreamWithTheToken() async throws {
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream)) { client, _, _ in
                let port = try requireValue(client.port)
                let answer = try await Self.exchange(
                    port: port, headers: [.authorization: "Bearer test:ann:"], text: "hello")
                #expect(answer == "echo: hello (Bearer test:ann:)")
            }
        }
    }

    @Test func anUpgradeFromAnotherSiteIsRefusedAndOneFromTheGatewaysOwnOriginRelayed() async throws {
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream)) { client, _, _ in
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
            try await withGateway(routes: Self.routes(upstream)) { client, _, _ in
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

    /// The relay passes bytes, not messages: a message of several frames (and more than a megabyte) arrives whole,
    /// and a connection quiet for longer than the idle timeout stays open once upgraded.
    @Test func largeMessagesAndQuietConnectionsAreRelayed() async throws {
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream), idleTimeout: .seconds(1)) { client, _, _ in
                let port = try requireValue(client.port)
                // Over the old relay's 1 MiB message limit (and no larger: the debug-built test client and server
                // mask and check every byte, which loads the machine the rest of the suite shares).
                let big = String(repeating: "x", count: 1_100_000)
                let answer = try await Self.exchange(
                    port: port, headers: [.authorization: "Bearer test:ann:"], text: big)
                // Compared by size and ends (a failure would print the whole text otherwise).
                #expect(answer?.utf8.count == big.utf8.count + 25)
                #expect(answer?.hasPrefix("echo: xxx") == true && answer?.hasSuffix("x (Bearer test:ann:)") == true)
                let late = try await Self.exchange(
                    port: port, headers: [.authorization: "Bearer test:ann:"], text: "late", after: .seconds(2))
                #expect(late == "echo: late (Bearer test:ann:)")
            }
        }
    }

    /// An upstream that does not switch protocols: its answer reaches the client, and the connection closes.
    @Test func anUpgradeTheUpstreamDeclinesGetsItsAnswer() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { upstream in
            try await withGateway(routes: Self.routes(upstream)) { client, _, _ in
                let connection = try RawConnection(port: try requireValue(client.port))
                try connection.send(
                    "GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                        + "Authorization: Bearer test:ann:\r\n\r\n")
                let (text, closed) = await connection.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 200"))
                #expect(text.contains(#""path":"\/ws\/chat""#))
                #expect(closed)
            }
        }
    }

    /// The HTTPS listener's HTTP/1.1 (ALPN) has the same upgrades: a `wss://` connection is relayed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") || TestEnvironment.isCI))
    func upgradesWorkOverTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = ChildProcess()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-keyout", key, "-out", certificate, "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        let server = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates(chain)
        let client = trusting
        try await Self.withEchoServer { upstream in
            try await withGateway(routes: Self.routes(upstream), tls: server) { gateway, _, _ in
                let port = try requireValue(gateway.port)
                let received = Mutex<String?>(nil)
                try await WebSocketClient.connect(
                    url: "wss://localhost:\(port)/ws/chat",
                    configuration: .init(additionalHeaders: [.authorization: "Bearer test:ann:"]),
                    tlsConfiguration: client, logger: Logger(label: "test")
                ) { inbound, outbound, _ in
                    try await outbound.write(.text("secure"))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let answer) = message { received.withLock { $0 = answer } }
                        break
                    }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                #expect(received.withLock { $0 } == "echo: secure (Bearer test:ann:)")
            }
        }
    }
}
