import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

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

    package init(
        responder: @escaping HTTPChannelHandler.Responder, limits: Limits,
        connectionHandler: (@Sendable () -> (any EdgeConnectionHandling)?)?
    ) {
        self.responder = responder
        self.limits = limits
        self.connectionHandler = connectionHandler
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
            try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
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
        var factory: (@Sendable () -> (any EdgeConnectionHandling)?)?
        if let edge { factory = { edge.makeConnectionHandler() } }
        let connectionHandler = factory
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
