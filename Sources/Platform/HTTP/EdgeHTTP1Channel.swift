import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOTLS
import NIOWebSocket

/// The plain HTTP/1.1 listener of every process: Hummingbird's HTTP/1 channel with the platform's limits (header
/// sizes, idle connections) and, when the process runs the gateway, the gateway's connection handler placed
/// right after the HTTP/1 codec. That handler proxies the requests it can decide on the event loop itself (see
/// `EdgeConnectionHandling`) and passes every other request on to Hummingbird unchanged.
///
/// Pipeline: HTTP/1 codec → framing guard (RFC 9112's 400-and-close) → [edge connection handler] → HTTP types
/// codec → connection state → async channel.
///
/// With WebSocket routes, the first request of each connection first passes NIO's upgrade handler: an upgrade to
/// one of the routes, authenticated and accepted, turns the connection into that WebSocket; anything else goes on
/// through the pipeline above (the gateway's own upgrades included).
package struct EdgeHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    package enum Connection: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, WebSocketFeed)
        /// An upgrade to a WebSocket route that was refused: answered with the problem, then closed.
        case refusedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, Problem, path: String)
    }

    package struct Value: ServerChildChannelValue {
        let connection: EventLoopFuture<Connection>
        package let channel: any Channel
    }

    package struct Limits: Sendable {
        /// Longest single header field, all header fields together, and number of fields (431 beyond).
        package var maxHeaderFieldSize = 16 * 1024
        package var maxHeaderListSize = 64 * 1024
        package var maxHeaderFieldCount = 100
        /// A connection without a request in progress and without traffic for this long is closed.
        package var idleTimeout: Duration = .seconds(60)

        package init() {}
    }

    package let responder: HTTPChannelHandler.Responder
    let limits: Limits
    let connectionHandler: (@Sendable () -> (any EdgeConnectionHandling)?)?
    /// Behind TLS (the HTTPS listener's HTTP/1.1): requests carry the `https` scheme.
    let secure: Bool
    /// The process's WebSocket endpoints (none: no upgrade handler at all).
    let webSocket: WebSocketRoutes?

    package init(
        responder: @escaping HTTPChannelHandler.Responder, limits: Limits,
        connectionHandler: (@Sendable () -> (any EdgeConnectionHandling)?)?, secure: Bool = false,
        webSocket: WebSocketRoutes? = nil
    ) {
        self.responder = responder
        self.limits = limits
        self.connectionHandler = connectionHandler
        self.secure = secure
        self.webSocket = webSocket.flatMap { $0.routes.isEmpty ? nil : $0 }
    }

    var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderFieldSize
        decoderLimits.maxHeaderListSize = limits.maxHeaderListSize
        decoderLimits.maxHeaderFieldCount = limits.maxHeaderFieldCount
        return decoderLimits
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            if let webSocket {
                return Value(
                    connection: try setUpgradable(channel: channel, webSocket: webSocket, logger: logger),
                    channel: channel)
            }
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
            try channel.pipeline.syncOperations.addHandler(HTTPFramingGuard())
            return Value(
                connection: channel.eventLoop.makeSucceededFuture(
                    .http(try addHTTPHandlers(channel: channel, logger: logger))),
                channel: channel)
        }
    }

    /// What follows the HTTP/1 codec for ordinary requests (see the type's pipeline); after NIO's upgrade handler,
    /// first what puts back an `Upgrade` header `FirstRequestGate` moved aside.
    private func addHTTPHandlers(channel: any Channel, logger: Logger, afterGate: Bool = false) throws
        -> NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    {
        let operations = channel.pipeline.syncOperations
        if afterGate { try operations.addHandler(FirstRequestUpgradeRestorer()) }
        let edge = connectionHandler?()
        if let edge {
            edge.idleTimeout = limits.idleTimeout
            try operations.addHandler(edge)
        }
        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: secure))
        // With an edge handler the idle timeout is its job: it sees the requests it answers itself, which this
        // handler never does (it would close a connection busy with them).
        try operations.addHandler(
            HTTPConnectionStateHandler(idleTimeout: edge == nil ? limits.idleTimeout : nil, logger: logger))
        return try NIOAsyncChannel(
            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }

    /// The HTTP/1 codec with NIO's upgrade handler for the first request; the HTTP handlers are added when it is
    /// not upgraded.
    private func setUpgradable(channel: any Channel, webSocket: WebSocketRoutes, logger: Logger) throws
        -> EventLoopFuture<Connection>
    {
        let secure = self.secure
        let decided = NIOLockedValueBox<(decision: WebSocketRoutes.Decision, path: String)?>(nil)
        let upgrader = NIOTypedWebSocketServerUpgrader<Connection>(
            maxFrameSize: WebSocketRoutes.maxFrameSize,
            shouldUpgrade: { channel, head in
                guard let route = webSocket.route(for: head.uri) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                promise.completeWithTask {
                    guard let request = try? HTTPRequest(head, secure: secure, splitCookie: false) else { return nil }
                    let decision = await webSocket.decide(
                        Request(head: request, body: .init(buffer: ByteBuffer())), route: route, channel: channel,
                        logger: logger)
                    decided.withLockedValue { $0 = (decision, route.path) }
                    guard case .accepted = decision else { return nil }
                    return HTTPHeaders()
                }
                return promise.futureResult
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard case .accepted(let feed) = decided.withLockedValue({ $0 })?.decision else {
                        throw WebSocketUpgradeError.notAccepted
                    }
                    // WebSocket frames from here on, not HTTP requests.
                    let framing = try channel.pipeline.syncOperations.handler(type: HTTPFramingGuard.self)
                    channel.pipeline.syncOperations.removeHandler(framing, promise: nil)
                    let asyncChannel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                    return Connection.webSocket(asyncChannel, feed)
                }
            })
        var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Connection>(
            upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let (decision, path) = decided.withLockedValue({ $0 }), case .refused(let problem) = decision
                        {
                            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: secure))
                            return .refusedUpgrade(
                                try NIOAsyncChannel(
                                    wrappingChannelSynchronously: channel,
                                    configuration: .init(isOutboundHalfClosureEnabled: true)),
                                problem, path: path)
                        }
                        return .http(try addHTTPHandlers(channel: channel, logger: logger, afterGate: true))
                    }
                }))
        configuration.enablePipelining = false
        configuration.enableErrorHandling = false
        configuration.enableResponseHeaderValidation = false
        configuration.decoderConfiguration = decoderLimits
        let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: configuration)
        // Before the upgrade handler, right after the request decoder.
        let upgradeHandler = try channel.pipeline.syncOperations.handler(
            type: NIOTypedHTTPServerUpgradeHandler<Connection>.self)
        try channel.pipeline.syncOperations.addHandler(HTTPFramingGuard(), position: .before(upgradeHandler))
        try channel.pipeline.syncOperations.addHandler(
            FirstRequestGate(idleTimeout: limits.idleTimeout) { webSocket.route(for: $0) != nil },
            position: .before(upgradeHandler))
        return result
    }

    package func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.connection.get() {
            case .http(let asyncChannel):
                await handleHTTP(asyncChannel: asyncChannel, logger: logger)
            case .webSocket(let asyncChannel, let feed):
                await WebSocketRoutes.run(asyncChannel, feed: feed, logger: logger)
            case .refusedUpgrade(let asyncChannel, let problem, let path):
                await WebSocketRoutes.refuse(asyncChannel, problem: problem, path: path, logger: logger)
            }
        } catch {
            logger.debug("connection ended before its first request", metadata: ["error.message": "\(error)"])
        }
    }
}

enum WebSocketUpgradeError: Error {
    case notAccepted
}

extension HTTPServerBuilder {
    /// The plain HTTP/1.1 listener (see `EdgeHTTP1Channel`), with `edge`'s per-connection handler when given.
    package static func edgeHTTP1(
        limits: EdgeHTTP1Channel.Limits, edge: (any EdgeHandler)?, webSocket: WebSocketRoutes? = nil
    ) -> HTTPServerBuilder {
        let connectionHandler = connectionHandlerFactory(edge)
        return HTTPServerBuilder { responder in
            EdgeHTTP1Channel(
                responder: responder, limits: limits, connectionHandler: connectionHandler, webSocket: webSocket)
        }
    }
}

/// A per-connection handler between the HTTP/1 codec and Hummingbird (the gateway's fast path). It sees
/// `HTTPServerRequestPart`s and `HTTPServerResponsePart`s; whatever it does not answer itself it must pass on in
/// order. It owns the connection's idle timeout.
package protocol EdgeConnectionHandling: ChannelDuplexHandler, RemovableChannelHandler
where
    InboundIn == HTTPServerRequestPart, InboundOut == HTTPServerRequestPart,
    OutboundIn == HTTPServerResponsePart, OutboundOut == HTTPServerResponsePart
{
    var idleTimeout: Duration { get set }
}

/// The HTTPS listener: TLS (certificates from the store, renewed files picked up by every new handshake), then
/// HTTP/2 when the client's ALPN offers `h2` (Hummingbird's HTTP/2 channel), else HTTP/1.1 through the same
/// `EdgeHTTP1Channel` as the plain listener, fast path and upgrades included.
package struct EdgeTLSChannel: ServerChildChannel {
    package struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        package let channel: any Channel
    }

    enum Negotiated: Sendable {
        case http1(EdgeHTTP1Channel.Value)
        case http2(HTTP2Channel.Value)
    }

    let context: NIOSSLContext
    let http1: EdgeHTTP1Channel
    let http2: HTTP2Channel

    package init(
        tls: TLSConfiguration, responder: @escaping HTTPChannelHandler.Responder, limits: EdgeHTTP1Channel.Limits,
        connectionHandler: (@Sendable () -> (any EdgeConnectionHandling)?)?, webSocket: WebSocketRoutes? = nil
    ) throws {
        var tls = tls
        tls.applicationProtocols = ["h2", "http/1.1"]
        context = try NIOSSLContext(configuration: tls)
        http1 = EdgeHTTP1Channel(
            responder: responder, limits: limits, connectionHandler: connectionHandler, secure: true,
            webSocket: webSocket)
        var streams = HTTP1Channel.Configuration(idleTimeout: .nanoseconds(Int64(limits.idleTimeout.nanoseconds)))
        streams.httpDecoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeaderFieldSize, maxHeaderListSize: limits.maxHeaderListSize,
            maxHeaderFieldCount: limits.maxHeaderFieldCount)
        http2 = HTTP2Channel(
            responder: responder,
            configuration: .init(idleTimeout: limits.idleTimeout, streamConfiguration: streams))
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result, channel in
                switch result {
                case .negotiated("h2"):
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                case .negotiated("http/1.1"), .fallback:
                    return http1.setup(channel: channel, logger: logger).map { .http1($0) }
                case .negotiated:
                    return channel.close().flatMapThrowing { throw EdgeTLSError.unknownProtocol }
                }
            }
            try channel.pipeline.syncOperations.addHandler(negotiation)
            return Value(negotiated: negotiation.protocolNegotiationResult, channel: channel)
        }
    }

    package func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1(let http1Value): await http1.handle(value: http1Value, logger: logger)
            case .http2(let http2Value): await http2.handle(value: http2Value, logger: logger)
            }
        } catch {
            logger.debug("TLS connection ended before HTTP", metadata: ["error.message": "\(error)"])
        }
    }
}

extension HTTPServerBuilder {
    /// Makes each new connection's edge handler, when the process has an edge.
    fileprivate static func connectionHandlerFactory(_ edge: (any EdgeHandler)?)
        -> (@Sendable () -> (any EdgeConnectionHandling)?)?
    {
        guard let edge else { return nil }
        return { edge.makeConnectionHandler() }
    }
}

enum EdgeTLSError: Error {
    case unknownProtocol
}

extension HTTPServerBuilder {
    /// The HTTPS listener (see `EdgeTLSChannel`).
    package static func edgeTLS(
        tls: TLSConfiguration, limits: EdgeHTTP1Channel.Limits, edge: (any EdgeHandler)?,
        webSocket: WebSocketRoutes? = nil
    ) -> HTTPServerBuilder {
        let connectionHandler = connectionHandlerFactory(edge)
        return HTTPServerBuilder { responder in
            try EdgeTLSChannel(
                tls: tls, responder: responder, limits: limits, connectionHandler: connectionHandler,
                webSocket: webSocket)
        }
    }
}
