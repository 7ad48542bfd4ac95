import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import HummingbirdWebSocket
import Kernel
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Platform
import Prometheus
import Synchronization
import TestSupport

/// A module served in the gateway's own process, to test in-process dispatch.
struct LocalModule: Module {
    let name = "local"

    func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        routes.get("/api/v1/local/hello") { request, context -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "hello \(context.principal?.subject ?? "anonymous")")))
        }
    }
}

/// Runs an upstream server on a free loopback port for the duration of `body`.
func withUpstream(
    _ build: @Sendable (Router<BasicRequestContext>) -> Void, _ body: @Sendable (Int) async throws -> Void
) async throws {
    let router = Router()
    build(router)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in
        try await body(try requireValue(client.port))
    }
}

func requireValue<T>(_ value: T?) throws -> T {
    guard let value else { throw HarnessError.missing }
    return value
}

enum HarnessError: Error { case missing }

/// A port nothing listens on, and nothing else can take while the test process runs: a TCP socket is bound to it
/// and never listens, so connections are refused. (Closing the socket again let a server of a test running in
/// parallel take the port, and a "dead" target answered.)
func closedPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw HarnessError.missing }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else {
        close(descriptor)
        throw HarnessError.missing
    }
    reservedPorts.withLock { $0.append(descriptor) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The sockets holding `closedPort()`'s ports, open until the process ends.
private let reservedPorts = Mutex<[Int32]>([])

/// The gateway in front of `LocalModule`, with `routes` as its route file; `body` gets a live client.
func withGateway(
    routes: String, upstreams: [String: [String]] = [:], operatorTenant: String? = nil, accessLog: LogSink? = nil,
    fastPath: Bool = true, idleTimeout: Duration = .seconds(60), redisURL: String? = nil,
    tls: TLSConfiguration? = nil,
    _ body: @Sendable (any TestClientProtocol, GatewayModule, any Database) async throws -> Void
) async throws {
    let gatewayMigrations = GatewayModule().migrations
    try await withTestDatabase(.sqlite, migrations: PlatformMigrations.all + gatewayMigrations) { database, base in
        var configuration = base
        let file = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("routes.json")
        try Data(routes.utf8).write(to: file)
        configuration.gatewayRoutes = file.path
        configuration.upstreams = upstreams
        configuration.operatorTenant = operatorTenant
        configuration.gatewayFastPath = fastPath
        configuration.redisURL = redisURL
        let gateway = GatewayModule(catalog: [("local", ["/api/v1/local/"]), ("remote", ["/api/v1/remote/"])])
        let modules: [any Module] = [gateway, LocalModule()]
        var context = ModuleContext(
            database: database, configuration: configuration, logger: TestEnvironment.logger,
            web: try WebKit.bundled(navigation: [], modules: modules), moduleNames: modules.map(\.name),
            mailer: Mailer(
                transport: FileMailTransport(directory: URL(fileURLWithPath: configuration.dataDirectory + "/mail")),
                from: MailAddress("no-reply@example.com")))
        context.authenticator = TestAuthenticator()
        let (router, edge) = try PlatformRouter.buildWithEdge(
            modules: modules, context: context, metrics: context.metrics, accessLog: accessLog)
        // As the composition root does: plain HTTP/1 with the platform's limits and the gateway's fast path.
        var limits = EdgeHTTP1Channel.Limits()
        limits.idleTimeout = idleTimeout
        // A WebSocket route of the process's own, as `serve` has (Messaging's live updates): NIO's upgrade handler
        // then sees each connection's first request, and upgrades for the gateway's upstreams must still pass.
        let webSocket = WebSocketRoutes(
            routes: [
                WebSocketRoute(path: "/api/v1/local/socket") { _, _ in
                    WebSocketFeed(messages: AsyncStream { $0.finish() })
                }
            ], authenticator: context.authenticator)
        let server =
            tls.map { HTTPServerBuilder.edgeTLS(tls: $0, limits: limits, edge: edge, webSocket: webSocket) }
            ?? .edgeHTTP1(limits: limits, edge: edge, webSocket: webSocket)
        let app = Application(
            router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        do {
            // Over TLS the test client is AsyncHTTPClient speaking HTTPS (the live client speaks plain HTTP only).
            try await app.test(tls == nil ? .live : .ahc(.https)) { client in try await body(client, gateway, database)
            }
        } catch {
            await gateway.runtimeForTesting?.clients.shutdown()
            throw error
        }
        await gateway.runtimeForTesting?.clients.shutdown()
    }
}
