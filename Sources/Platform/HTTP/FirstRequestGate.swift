import NIOCore
import NIOHTTP1

/// The first request of a connection on a listener with WebSocket routes, before NIO's upgrade handler:
///
/// - NIO's typed upgrade handler drops the head of a first request that asks for an upgrade none of its upgraders
///   takes (an `Upgrade: h2c` GET, a WebSocket for a gateway upstream route). So only a WebSocket upgrade to one of
///   the process's WebSocket routes reaches it as sent; on any other first request the `Upgrade` header is moved
///   aside (`deferredUpgrade`) and `FirstRequestUpgradeRestorer`, after the upgrade handler, puts it back, so the
///   gateway's relay and the router see the request unchanged.
/// - Until the first head arrives, the connection has none of the HTTP handlers that close idle connections and
///   end them on graceful shutdown: this closes it after `idleTimeout` without a request, and at once when the
///   server starts shutting down.
///
/// It removes itself once the first head has passed.
final class FirstRequestGate: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let deferredUpgrade = "x-inopsio-deferred-upgrade"

    private let isWebSocketPath: @Sendable (String) -> Bool
    private let idleTimeout: Duration
    private var timer: Scheduled<Void>?
    private var passed = false

    init(idleTimeout: Duration, isWebSocketPath: @escaping @Sendable (String) -> Bool) {
        self.idleTimeout = idleTimeout
        self.isWebSocketPath = isWebSocketPath
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(idleTimeout.nanoseconds))) {
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !passed, case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        passed = true
        timer?.cancel()
        timer = nil
        head.headers.remove(name: Self.deferredUpgrade)
        let upgrades = head.headers[canonicalForm: "upgrade"]
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        // What NIO's WebSocket upgrader takes; anything short of it (no key, another version, no `Connection:
        // upgrade`) would lose its head there too, so it goes on as HTTP and the route answers it.
        let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        let ours =
            upgrades.contains { $0.lowercased() == "websocket" } && isWebSocketPath(path)
            && connection.contains("upgrade") && !head.headers["sec-websocket-key"].isEmpty
            && head.headers["sec-websocket-version"] == ["13"]
        if !upgrades.isEmpty && !ours {
            for value in head.headers["upgrade"] { head.headers.add(name: Self.deferredUpgrade, value: value) }
            head.headers.remove(name: "upgrade")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !passed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Puts back the `Upgrade` header `FirstRequestGate` moved aside on a connection's first request, then removes
/// itself.
final class FirstRequestUpgradeRestorer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let deferred = head.headers[FirstRequestGate.deferredUpgrade]
        if !deferred.isEmpty {
            head.headers.remove(name: FirstRequestGate.deferredUpgrade)
            for value in deferred { head.headers.add(name: "upgrade", value: value) }
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
