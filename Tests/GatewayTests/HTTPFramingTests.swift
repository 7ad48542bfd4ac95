import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import TestSupport
import Testing

/// RFC 9112: a request without `Host` (HTTP/1.1) or with two is a 400 (§3.2), and after a request that cannot be
/// framed the connection is closed rather than its leftover bytes read as another request (§9.6). The same on the
/// gateway's fast path, its ordinary path, and a module process served directly (no gateway).
@Suite struct HTTPFramingTests {
    enum Server: String, CaseIterable, CustomStringConvertible {
        case gatewayFastPath, gatewayOrdinaryPath, moduleDirectly
        var description: String { rawValue }
    }

    struct Exchange: Sendable, CustomStringConvertible {
        let name: String
        let request: String
        /// The statuses expected, in order.
        let statuses: [String]
        /// Whether the server closes the connection after them (`nil`: either is fine).
        let closes: Bool?
        var description: String { name }
    }

    static let exchanges: [Exchange] = [
        Exchange(
            name: "no Host", request: "GET /echo/a HTTP/1.1\r\n\r\n", statuses: ["400"], closes: true),
        Exchange(
            name: "two Hosts", request: "GET /echo/a HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n",
            statuses: ["400"], closes: true),
        Exchange(
            name: "a Host that is no host", request: "GET /echo/a HTTP/1.1\r\nHost: a/b@c\r\n\r\n",
            statuses: ["400"], closes: true),
        Exchange(
            name: "chunked HTTP/1.0 smuggling a second request",
            request:
                "POST /echo/a HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                + "GET /echo/b HTTP/1.1\r\nHost: localhost\r\n\r\n",
            statuses: ["400"], closes: true),
        Exchange(
            name: "a good request, then one without Host",
            request: "GET /echo/a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /echo/b HTTP/1.1\r\n\r\n",
            statuses: ["200", "400"], closes: true),
        Exchange(
            name: "HTTP/1.0 without Host is fine", request: "GET /echo/a HTTP/1.0\r\n\r\n", statuses: ["200"],
            closes: nil),
        Exchange(
            name: "a good request keeps the connection",
            request: "GET /echo/a HTTP/1.1\r\nHost: localhost:8080\r\n\r\n", statuses: ["200"], closes: false),
    ]

    static let cases = Server.allCases.flatMap { server in exchanges.map { (server, $0) } }

    @Test(arguments: cases)
    func badFramingIsA400AndClosesTheConnection(_ server: Server, _ exchange: Exchange) async throws {
        try await Self.withServer(server) { port in
            let connection = try RawConnection(port: port, timeout: exchange.closes == true ? 10 : 2)
            try connection.send(exchange.request)
            let (text, closed) = await connection.readToEnd()
            let statuses = RawConnection.split(text).map { String($0.split(separator: " ")[1]) }
            #expect(statuses == exchange.statuses, "\(server) \(exchange): \(text)")
            if let closes = exchange.closes { #expect(closed == closes, "\(server) \(exchange)") }
            if statuses.last == "400" {
                #expect(text.contains("Connection: close") || text.contains("connection: close"))
                #expect(text.contains("application/problem+json"))
            }
        }
    }

    @Test func hostValuesAreCheckedAsHostAndPort() {
        #expect(HTTPFramingGuard.isHost("localhost:8080"))
        #expect(HTTPFramingGuard.isHost("[::1]:80"))
        #expect(HTTPFramingGuard.isHost(""))
        #expect(!HTTPFramingGuard.isHost("a b"))
        #expect(!HTTPFramingGuard.isHost("a/b"))
        #expect(!HTTPFramingGuard.isHost("user@host"))
    }

    static func withServer(_ server: Server, _ body: @Sendable (Int) async throws -> Void) async throws {
        switch server {
        case .gatewayFastPath, .gatewayOrdinaryPath:
            try await withUpstream(EdgeGatewayTests.echo) { port in
                try await withGateway(routes: FastPathTests.routes(port), fastPath: server == .gatewayFastPath) {
                    client, _, _ in try await body(try requireValue(client.port))
                }
            }
        case .moduleDirectly:
            let router = Router(context: AppRequestContext.self)
            router.get("/echo/{name}") { _, _ in "echo" }
            let app = Application(
                router: router, server: .edgeHTTP1(limits: EdgeHTTP1Channel.Limits(), edge: nil),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in try await body(try requireValue(client.port)) }
        }
    }
}
