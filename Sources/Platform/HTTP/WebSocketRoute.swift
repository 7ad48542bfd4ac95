import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOWebSocket
import ServiceLifecycle

/// A module's WebSocket endpoint: a one-way feed of text messages to the client (live updates). An upgrade request
/// to `path`, when it is a connection's first request (browsers open every WebSocket on a connection of its own),
/// is authenticated as every request is (without a valid credential it is answered 401); `accept` then returns
/// the feed, or throws a `Problem` that is answered instead (problem+json, then the connection is closed). An
/// upgrade that is not a connection's first request goes on as ordinary HTTP to the route at the same path.
package struct WebSocketRoute: Sendable {
    package let path: String
    package let accept: @Sendable (Request, AppRequestContext) async throws -> WebSocketFeed

    package init(
        path: String, accept: @escaping @Sendable (Request, AppRequestContext) async throws -> WebSocketFeed
    ) {
        self.path = path
        self.accept = accept
    }
}

/// What an accepted WebSocket sends: each message as a text frame, until the feed ends (a normal close, 1000) or
/// the server stops (1001). When the client goes first, the task iterating `messages` is cancelled, which ends
/// the stream (its `onTermination` runs). What the client sends is not read beyond pings and the close.
package struct WebSocketFeed: Sendable {
    package let messages: AsyncStream<String>

    package init(messages: AsyncStream<String>) {
        self.messages = messages
    }
}

/// The WebSocket endpoints of a process and how their requests are authenticated.
package struct WebSocketRoutes: Sendable {
    package let routes: [WebSocketRoute]
    package let authenticator: (any RequestAuthenticator)?
    /// Largest frame accepted from a client (it sends only control frames).
    static let maxFrameSize = 16_384
    /// A ping goes out this often, so that proxies keep an idle connection open and a dead peer is noticed.
    static let pingInterval: Duration = .seconds(15)

    package init(routes: [WebSocketRoute], authenticator: (any RequestAuthenticator)?) {
        self.routes = routes
        self.authenticator = authenticator
    }

    /// The route for `uri`'s path, if any.
    func route(for uri: String) -> WebSocketRoute? {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        return routes.first { $0.path == path }
    }

    /// What became of an upgrade request.
    enum Decision: Sendable {
        case accepted(WebSocketFeed)
        case refused(Problem)
    }

    /// Authenticates the upgrade request and asks its route.
    func decide(_ request: Request, route: WebSocketRoute, channel: any Channel, logger: Logger) async -> Decision {
        var context = AppRequestContext(source: .init(channel: channel, logger: logger))
        do {
            guard let authenticator,
                let authentication = try await authenticator.authenticate(request, context: context)
            else { return .refused(.unauthorized()) }
            context.tenant = authentication.tenant
            context.principal = authentication.principal
            return .accepted(try await route.accept(request, context))
        } catch let problem as Problem {
            return .refused(problem)
        } catch {
            logger.error(
                "WebSocket upgrade failed", metadata: ["error.message": "\(String(reflecting: error))"])
            return .refused(Problem(status: .internalServerError, detail: "the WebSocket could not be opened"))
        }
    }

    /// Answers a refused upgrade with its problem and closes the connection (the request's parts, buffered by the
    /// upgrade handler, are not read).
    static func refuse(
        _ asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, problem: Problem, path: String,
        logger: Logger
    ) async {
        do {
            try await asyncChannel.executeThenClose { _, outbound in
                var headers = problem.headers
                let body = problem.body(instance: path, requestID: "")
                headers[.contentType] = "application/problem+json"
                headers[.cacheControl] = "no-store"
                headers[.connection] = "close"
                headers[.contentLength] = String(body.readableBytes)
                try await outbound.write(contentsOf: [
                    .head(HTTPResponse(status: problem.status, headerFields: headers)), .body(body), .end(nil),
                ])
            }
        } catch {
            logger.debug("refused WebSocket upgrade not answered", metadata: ["error.message": "\(error)"])
        }
    }

    /// Runs an accepted connection until the feed ends, the client closes or goes, or the server stops (graceful
    /// shutdown).
    static func run(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, feed: WebSocketFeed, logger: Logger)
        async
    {
        let (stop, stopping) = AsyncStream<Void>.makeStream()
        do {
            try await withGracefulShutdownHandler {
                try await channel.executeThenClose { inbound, outbound in
                    try await serve(inbound: inbound, outbound: outbound, feed: feed, stop: stop)
                }
            } onGracefulShutdown: {
                stopping.yield()
            }
        } catch {
            logger.debug("WebSocket connection ended", metadata: ["error.message": "\(error)"])
        }
    }

    private static func serve(
        inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        feed: WebSocketFeed, stop: AsyncStream<Void>
    ) async throws {
        enum End: Sendable {
            case clientClosed
            case feedEnded
            case stopping
        }
        let end = try await withThrowingTaskGroup(of: End.self) { group in
            group.addTask {
                for try await frame in inbound {
                    switch frame.opcode {
                    case .ping:
                        try await outbound.write(
                            WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                    case .connectionClose:
                        // Answered with the client's code (RFC 6455 §5.5.1), then the connection ends.
                        var data = frame.unmaskedData
                        let code = data.readSlice(length: 2) ?? ByteBuffer()
                        try await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
                        return .clientClosed
                    default:
                        continue
                    }
                }
                return .clientClosed
            }
            group.addTask {
                for await message in feed.messages {
                    try await outbound.write(
                        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: message)))
                }
                return Task.isCancelled ? .clientClosed : .feedEnded
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: pingInterval)
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer()))
                }
                return .clientClosed
            }
            group.addTask {
                for await _ in stop { return .stopping }
                return .clientClosed
            }
            let first = try await group.next() ?? .clientClosed
            group.cancelAll()
            return first
        }
        guard end != .clientClosed else { return }
        var code = ByteBuffer()
        code.write(webSocketErrorCode: end == .stopping ? .goingAway : .normalClosure)
        try await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
    }
}
