import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOTLS

/// The plain HTTP/1.1 listener of every process: Hummingbird's HTTP/1 channel with the platform's limits (header
/// sizes, idle connections) and, when the process runs the gateway, the gateway's connection handler placed
/// right after the HTTP/1 codec. That handler proxies the requests it can decide on the event loop itself (see
/// `EdgeConnectionHandling`) and passes every other request on to Hummingbird unchanged.
///
/// Pipeline: HTTP/1 codec → [edge connection handler] → HTTP types codec → connection state → async channel.
package struct EdgeHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    package typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

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

    package init(
        responder: @escaping HTTPChannelHandler.Responder, limits: Limits,
        connectionHandler: (@Sendable () -> (any EdgeConnectionHandling)?)?, secure: Bool = false
    ) {
        self.responder = responder
        self.limits = limits
        self.connectionHandler = connectionHandler
        self.secure = secure
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = limits.maxHeaderFieldSize
            decoderLimits.maxHeaderListSize = limits.maxHeaderListSize
            decoderLimits.maxHeaderFieldCount = limits.maxHeaderFieldCount
            let operations = channel.pipeline.syncOperations
            try operations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
            let edge = connectionHandler?()
            if let edge {
                edge.idleTimeout = limits.idleTimeout
                try operations.addHandler(edge)
            }
            try operations.addHandler(HTTP1ToHTTPServerCodec(secure: secure))
            // With an edge handler the idle timeout is its job: it sees the requests it answers itself, which this
            // handler never does (it would close a connection busy with them).
            try operations.addHandler(
                HTTPConnectionStateHandler(
                    idleTimeout: edge == nil ? limits.idleTimeout : nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    package func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// The plain HTTP/1.1 listener (see `EdgeHTTP1Channel`), with `edge`'s per-connection handler when given.
    package static func edgeHTTP1(limits: EdgeHTTP1Channel.Limits, edge: (any EdgeHandler)?) -> HTTPServerBuilder {
        let connectionHandler = connectionHandlerFactory(edge)
        return HTTPServerBuilder { responder in
            EdgeHTTP1Channel(responder: responder, limits: limits, connectionHandler: connectionHandler)
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
        connectionHandler: (@Sendable () -> (any EdgeConnectionHandling)?)?
    ) throws {
        var tls = tls
        tls.applicationProtocols = ["h2", "http/1.1"]
        context = try NIOSSLContext(configuration: tls)
        http1 = EdgeHTTP1Channel(
            responder: responder, limits: limits, connectionHandler: connectionHandler, secure: true)
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
    package static func edgeTLS(tls: TLSConfiguration, limits: EdgeHTTP1Channel.Limits, edge: (any EdgeHandler)?)
        -> HTTPServerBuilder
    {
        let connectionHandler = connectionHandlerFactory(edge)
        return HTTPServerBuilder { responder in
            try EdgeTLSChannel(tls: tls, responder: responder, limits: limits, connectionHandler: connectionHandler)
        }
    }
}
