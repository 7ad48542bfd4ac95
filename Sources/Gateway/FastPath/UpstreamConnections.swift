import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to upstream targets for the fast path, kept per event loop: a client
/// connection's requests go out on connections of its own loop, so a proxied request never changes thread.
final class UpstreamConnections: Sendable {
    private let loops = Mutex<[ObjectIdentifier: LoopUpstreamConnections]>([:])

    /// The connections of `loop` (made on first use).
    func forLoop(_ loop: any EventLoop) -> LoopUpstreamConnections {
        loops.withLock { loops in
            if let existing = loops[ObjectIdentifier(loop)] { return existing }
            let created = LoopUpstreamConnections(loop: loop)
            loops[ObjectIdentifier(loop)] = created
            return created
        }
    }

    /// Closes every idle connection (at shutdown).
    func closeAll() {
        let all = loops.withLock { Array($0.values) }
        for connections in all { connections.loop.execute { connections.closeIdle() } }
    }
}

/// The idle connections of one event loop by target; used only on that loop.
final class LoopUpstreamConnections: @unchecked Sendable {
    let loop: any EventLoop
    private var idle: [UpstreamTarget: [UpstreamConnection]] = [:]
    /// Idle connections kept per target and loop; more are closed when they come back.
    static let maxIdlePerTarget = 256
    /// An idle connection is closed after this long (before the upstream's own idle timeout closes it under a
    /// request being sent).
    static let idleTimeout: TimeAmount = .seconds(20)
    /// One timer for the loop's idle connections, not one per connection given back (a request's worth of work
    /// in the event loop's timer heap otherwise).
    private var sweep: Scheduled<Void>?

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// An idle connection to `target`, if the pool has one.
    func takeIdle(_ target: UpstreamTarget) -> UpstreamConnection? {
        loop.preconditionInEventLoop()
        while let connection = idle[target]?.popLast() {
            connection.idleSince = nil
            connection.handler.idleIn = nil
            if connection.channel.isActive {
                connection.reused = true
                return connection
            }
        }
        return nil
    }

    /// An idle connection to `target`, or a new one.
    func lease(_ target: UpstreamTarget, connectTimeout: Duration) -> EventLoopFuture<UpstreamConnection> {
        if let connection = takeIdle(target) { return loop.makeSucceededFuture(connection) }
        let loop = self.loop
        return ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.nanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The headers are the client's, already parsed, plus the gateway's own: no second validation.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnectionHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self)
                let connection = UpstreamConnection(channel: channel, handler: handler, target: target)
                handler.connection = connection
                return connection
            }
    }

    /// Takes a connection back after a complete exchange.
    func giveBack(_ connection: UpstreamConnection) {
        loop.preconditionInEventLoop()
        connection.handler.exchange = nil
        connection.responseArrived()
        guard connection.channel.isActive else { return }
        // A slow client may have paused reading it; an idle connection must notice its upstream closing.
        if connection.readingPaused {
            connection.readingPaused = false
            try? connection.channel.syncOptions?.setOption(.autoRead, value: true)
        }
        guard (idle[connection.target]?.count ?? 0) < Self.maxIdlePerTarget else {
            connection.channel.close(promise: nil)
            return
        }
        let now = NIODeadline.now()
        connection.idleSince = now
        if sweep == nil { scheduleSweep(at: now + Self.idleTimeout) }
        idle[connection.target, default: []].append(connection)
        connection.handler.idleIn = self
    }

    fileprivate func remove(_ connection: UpstreamConnection) {
        connection.idleSince = nil
        idle[connection.target]?.removeAll { $0 === connection }
    }

    private func scheduleSweep(at deadline: NIODeadline) {
        sweep = loop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) { [weak self] in
            self?.closeExpired()
        }
    }

    /// Closes the connections idle for `idleTimeout`, and sets the timer for the next to expire.
    private func closeExpired() {
        sweep = nil
        let now = NIODeadline.now()
        var expired: [UpstreamConnection] = []
        var next: NIODeadline?
        for (target, list) in idle {
            var kept: [UpstreamConnection] = []
            for connection in list {
                let due = (connection.idleSince ?? now) + Self.idleTimeout
                if due <= now {
                    expired.append(connection)
                } else {
                    kept.append(connection)
                    next = min(next ?? due, due)
                }
            }
            idle[target] = kept.isEmpty ? nil : kept
        }
        for connection in expired {
            connection.idleSince = nil
            connection.handler.idleIn = nil
            connection.channel.close(promise: nil)
        }
        if let next { scheduleSweep(at: next) }
    }

    func closeIdle() {
        sweep?.cancel()
        sweep = nil
        for connection in idle.values.joined() {
            connection.handler.idleIn = nil
            connection.channel.close(promise: nil)
        }
        idle.removeAll()
    }
}

/// One HTTP/1.1 connection to a target. Confined to its channel's event loop (hence unchecked).
final class UpstreamConnection: @unchecked Sendable {
    let channel: any Channel
    let handler: UpstreamConnectionHandler
    let target: UpstreamTarget
    /// Taken from the idle list rather than freshly connected (it may have been closed by the upstream meanwhile).
    var reused = false
    /// In the pool since then; nil while leased.
    var idleSince: NIODeadline?
    /// Reading switched off while the client could not take more of the answer.
    var readingPaused = false

    /// The exchange using it gives up waiting for the response head then (its try timeout); nil when not waiting.
    private var responseDeadline: NIODeadline?
    /// One timer per connection, moved on only when it fires: a request on a kept-alive connection sets a
    /// deadline without scheduling (and cancelling) a task of its own.
    private var deadlineTimer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(channel: any Channel, handler: UpstreamConnectionHandler, target: UpstreamTarget) {
        self.channel = channel
        self.handler = handler
        self.target = target
    }

    /// The exchange now using the connection expects the response head by `deadline`; if it does not come, the
    /// exchange is told `upstreamTimedOut()`.
    func awaitResponse(by deadline: NIODeadline) {
        responseDeadline = deadline
        if let armed = timerDeadline, armed <= deadline { return }
        deadlineTimer?.cancel()
        armTimer(at: deadline)
    }

    /// The response head arrived (or the exchange no longer waits for it).
    func responseArrived() {
        responseDeadline = nil
    }

    private func armTimer(at deadline: NIODeadline) {
        timerDeadline = deadline
        deadlineTimer = channel.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) {
            [weak self] in
            guard let self else { return }
            self.deadlineTimer = nil
            self.timerDeadline = nil
            guard let due = self.responseDeadline else { return }
            if due <= .now() {
                self.responseDeadline = nil
                self.handler.exchange?.upstreamTimedOut()
            } else {
                self.armTimer(at: due)
            }
        }
    }
}

/// What an upstream connection reports to the exchange using it.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamRead(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(_ writable: Bool)
    func upstreamClosed(_ error: (any Error)?)
    /// No response head by the deadline given to `awaitResponse(by:)`.
    func upstreamTimedOut()
}

/// The last handler of an upstream connection: passes response parts to the exchange that holds the connection.
final class UpstreamConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// Strong (a weak reference costs a side-table allocation per exchange): set for one exchange, cleared by its
    /// end, by the connection's close, or when the connection goes back to the pool.
    var exchange: (any UpstreamConnectionDelegate)?
    /// The pool holding the connection while it is idle: it takes the connection out when the upstream closes it.
    var idleIn: LoopUpstreamConnections?
    weak var connection: UpstreamConnection?
    private var error: (any Error)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        exchange?.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.upstreamWritabilityChanged(context.channel.isWritable)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.error = error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamClosed(error)
        if let idleIn, let connection { idleIn.remove(connection) }
        idleIn = nil
    }
}
