import Foundation
import HTTPTypes
import Kernel
import Logging
import NIOCore
import NIOHTTP1
import Platform
import Synchronization

/// What every connection's fast path shares: the gateway, the platform's metrics and access log, the local
/// limiter (`nil` with Redis: the shared limiter is then asked asynchronously) and the upstream connections.
final class FastPath: Sendable {
    let edge: EdgeGateway
    let observers: EdgeObservers
    let localLimiter: SlidingWindowLimiter?
    let connections = UpstreamConnections()

    init(edge: EdgeGateway, observers: EdgeObservers) {
        self.edge = edge
        self.observers = observers
        self.localLimiter = edge.limiter as? SlidingWindowLimiter
    }
}

/// The gateway's fast path on one HTTP/1.1 connection, between the HTTP/1 codec and Hummingbird.
///
/// For each request head it asks `EdgeGateway.fastPathDecision`: a request whose every edge check can be decided
/// from memory, bound for a plain-HTTP upstream, is proxied right here on the connection's event loop (its
/// upstream connection lives on the same loop: no task, no thread change, no copy of the body); any other request
/// is passed on to Hummingbird and the router unchanged, where `EdgeGateway.handle` decides it as before. The
/// answers are the same either way; only the cost differs.
///
/// One request is handled at a time: the parts of a pipelined request wait (and reading stops) until the
/// previous response is complete, so responses keep the order of requests whichever path each one takes.
/// This handler also owns the connection's idle timeout and holds a graceful-shutdown request back until the
/// request it is proxying is answered.
final class FastPathConnectionHandler: EdgeConnectionHandling {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    var idleTimeout: Duration = .seconds(60)
    let fast: FastPath
    private(set) var connections: LoopUpstreamConnections?
    private var clientIP: String?

    private enum State {
        case idle
        /// Passed on to the router; done when both the request's end arrived and the response's end was written.
        case ordinary(requestEnded: Bool, responseEnded: Bool)
        case fast(FastExchange)
        /// An upgrade request being checked (its parts kept until decided) or sent to the upstream.
        case upgrading([HTTPServerRequestPart], UpgradeExchange?)
        /// Relaying bytes both ways; nothing HTTP is left on this connection.
        case upgraded
    }

    private var state: State = .idle
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    private var lastActivity = NIODeadline.now()
    /// When the client last sent a request part (reading a slow body is bounded by the idle timeout too).
    private var lastRead = NIODeadline.now()
    private var idleTask: Scheduled<Void>?
    /// A graceful shutdown began: the connection closes after the current exchange.
    private(set) var quiescing = false
    private var heldQuiesce: Any?
    private var heldInputClosed = false
    private var upgradeAnswerForwarded = false

    /// An exchange of this handler's (not the router's) is in progress.
    private var holdsInput: Bool {
        switch state {
        case .fast, .upgrading, .upgraded: true
        case .idle, .ordinary: false
        }
    }

    init(fast: FastPath) {
        self.fast = fast
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connections = fast.connections.forLoop(context.eventLoop)
        clientIP = context.channel.remoteAddress?.ipAddress
        if context.channel.isActive { scheduleIdleCheck(context: context, at: .now() + idleTimeAmount) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTask?.cancel()
        idleTask = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if clientIP == nil { clientIP = context.channel.remoteAddress?.ipAddress }
        if idleTask == nil { scheduleIdleCheck(context: context, at: .now() + idleTimeAmount) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTask?.cancel()
        idleTask = nil
        switch state {
        case .fast(let exchange): exchange.clientClosed()
        case .upgrading(_, let exchange): exchange?.clientClosed()
        default: break
        }
        state = .idle
        queued.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        lastRead = lastActivity
        let part = unwrapInboundIn(data)
        if !queued.isEmpty {
            queued.append(part)
            return
        }
        if case .head = part, !isIdle {
            queued.append(part)
            return
        }
        process(part, context: context)
    }

    /// A request is in progress and its end has not arrived yet.
    private var awaitingRequestParts: Bool {
        switch state {
        case .ordinary(let requestEnded, _): !requestEnded
        case .fast(let exchange): !exchange.requestComplete
        default: false
        }
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .idle:
            guard case .head(let head) = part else {
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            if FastPathHeaders.isUpgrade(head.headers) {
                startUpgrade(head, context: context)
                return
            }
            guard fast.edge.fastPathEnabled else {
                state = .ordinary(requestEnded: false, responseEnded: false)
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            switch fast.edge.fastPathDecision(head, clientIP: clientIP, localLimiter: fast.localLimiter) {
            case .ordinary:
                state = .ordinary(requestEnded: false, responseEnded: false)
                context.fireChannelRead(wrapInboundOut(part))
            case .proxy(let plan):
                let exchange = FastExchange(plan: plan, identity: plan.identity, handler: self, context: context)
                state = .fast(exchange)
                exchange.start()
            case .answer(let problem, let identity):
                let exchange = FastExchange(plan: nil, identity: identity, handler: self, context: context)
                state = .fast(exchange)
                exchange.answer(problem)
            }
        case .ordinary(_, let responseEnded):
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part {
                state = .ordinary(requestEnded: true, responseEnded: responseEnded)
                if responseEnded { exchangeFinished(context: context, close: false) }
            }
        case .fast(let exchange):
            switch part {
            case .body(let buffer): exchange.requestBody(buffer)
            case .end: exchange.requestEnd()
            case .head:
                // Heads wait in `queued` while a request is in progress; one here is a bug: end the connection.
                assertionFailure("a request head while another request is in progress")
                exchange.clientClosed()
                state = .idle
                context.close(promise: nil)
            }
        case .upgrading(var parts, let exchange):
            // An upgrade request has no body worth relaying; its end is kept in case it goes the ordinary way.
            parts.append(part)
            state = .upgrading(parts, exchange)
        case .upgraded:
            break
        }
    }

    // MARK: Upgrades

    /// Checks an upgrade request with the ordinary path's checks (they may read the database: off the loop),
    /// then relays it, refuses it, or passes it to the router.
    private func startUpgrade(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .upgrading([.head(head)], nil)
        let edge = fast.edge
        let clientIP = self.clientIP
        let channel = context.channel
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            let decision = await edge.upgradeDecision(head, clientIP: clientIP, channel: channel)
            loop.execute {
                let (handler, context) = bound.value
                handler.upgradeDecided(decision, head: head, context: context)
            }
        }
    }

    private func upgradeDecided(_ decision: UpgradeDecision, head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .upgrading(let parts, _) = state else {
            // The client went away while the checks ran: give the target back.
            if case .relay(let plan) = decision { plan.pool.release(plan.lease) }
            return
        }
        switch decision {
        case .ordinary:
            let ended = parts.contains { if case .end = $0 { return true } else { return false } }
            state = .ordinary(requestEnded: ended, responseEnded: false)
            for part in parts { context.fireChannelRead(wrapInboundOut(part)) }
            context.fireChannelReadComplete()
        case .refuse(let problem):
            answerUpgrade(problem, head: head, parts: parts, context: context)
        case .relay(let plan):
            let exchange = UpgradeExchange(plan: plan, handler: self, context: context)
            state = .upgrading(parts, exchange)
            exchange.start()
        }
    }

    /// Answers an upgrade request with `problem` (as the ordinary path would) and closes the connection after.
    private func answerUpgrade(
        _ problem: Problem, head: HTTPRequestHead, parts: [HTTPServerRequestPart], context: ChannelHandlerContext
    ) {
        let requestID = RequestIDs.next()
        let identity = FastPathPlan.Identity(
            route: "upgrade", method: HTTPRequest.Method(head.method.rawValue) ?? .get,
            path: String(EdgeGateway.splitQuery(head.uri).0), requestID: requestID,
            trace: TraceContext.makeNew(requestID: requestID), clientIP: clientIP, tenant: nil, subject: nil,
            userAgent: head.headers.first(name: "user-agent"), closeAfter: true)
        let exchange = FastExchange(plan: nil, identity: identity, handler: self, context: context)
        state = .fast(exchange)
        exchange.answer(problem)
        if parts.contains(where: { if case .end = $0 { return true } else { return false } }) { exchange.requestEnd() }
    }

    func upgradeFailed(_ problem: Problem, context: ChannelHandlerContext) {
        if upgradeAnswerForwarded {
            // The upstream's own answer is partly out: it cannot be replaced, only cut.
            context.close(promise: nil)
            return
        }
        guard case .upgrading(let parts, _) = state, case .head(let head)? = parts.first else { return }
        answerUpgrade(problem, head: head, parts: parts, context: context)
    }

    /// The upstream declined the upgrade: its answer goes to the client, and the connection closes after it.
    func upgradeAnswered(_ upstream: HTTPResponseHead, context: ChannelHandlerContext) {
        upgradeAnswerForwarded = true
        var headers = HTTPHeaders()
        let named = FastPathHeaders.hopByHopNames(upstream.headers)
        for (name, value) in upstream.headers where !FastPathHeaders.contains(named, name) {
            headers.add(name: name, value: value)
        }
        SecurityHeaders.apply(to: &headers, isPage: false, tls: fast.edge.tls)
        headers.replaceOrAdd(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: upstream.status, headers: headers))),
            promise: nil)
    }

    func upgradeRefusedByUpstream(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .idle
        context.close(promise: nil)
    }

    /// `101 Switching Protocols`: from here on both connections relay bytes.
    func upgraded(upstream: any Channel, head: HTTPResponseHead, context: ChannelHandlerContext) {
        state = .upgraded
        idleTask?.cancel()
        idleTask = nil
        let (clientSide, upstreamSide) = GlueHandler.pair()
        // The client's bytes wait until the upstream connection's HTTP codec is gone (its removal completes later).
        upstreamSide.hold()
        do {
            // In front of the HTTP/1 codec: after TLS, when the connection has it.
            let encoder = try context.pipeline.syncOperations.handler(type: HTTPResponseEncoder.self)
            try context.pipeline.syncOperations.addHandler(clientSide, position: .before(encoder))
            var answer = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\n")
            for (name, value) in head.headers { answer.writeString("\(name): \(value)\r\n") }
            answer.writeString("\r\n")
            clientSide.writeDirect(answer)
            let operations = upstream.pipeline.syncOperations
            try operations.addHandler(upstreamSide)
            // Bytes the upstream sent right after its answer are passed on to the relay as the decoder goes.
            let removals = ["response", "encoder", "decoder"].map { operations.removeHandler(name: $0) }
            // Both connections are on this loop (the fast path keeps upstream connections per loop).
            let sides = NIOLoopBound((upstreamSide, clientSide), eventLoop: upstream.eventLoop)
            EventLoopFuture.andAllComplete(removals, on: upstream.eventLoop).whenComplete { _ in
                sides.value.0.release()
                sides.value.1.flushNow()
            }
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        let part = unwrapOutboundIn(data)
        context.write(data, promise: promise)
        if case .end = part, case .ordinary(let requestEnded, _) = state {
            state = .ordinary(requestEnded: requestEnded, responseEnded: true)
            if requestEnded { exchangeFinished(context: context, close: false) }
        }
    }

    func read(context: ChannelHandlerContext) {
        if !queued.isEmpty {
            readHeld = true
            return
        }
        if case .fast(let exchange) = state, exchange.holdsReads {
            readHeld = true
            return
        }
        context.read()
    }

    /// The exchange can take more of the request body again.
    func resumeReads(context: ChannelHandlerContext) {
        if readHeld && queued.isEmpty {
            readHeld = false
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .fast(let exchange) = state { exchange.clientWritabilityChanged(context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .fast(let exchange) = state {
            // A broken request in the middle of a proxied exchange (a malformed body): nothing sensible to answer.
            state = .idle
            exchange.clientClosed()
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A client that half-closes after its request still gets the answer: Hummingbird closes the connection
        // on this event, so it waits until the exchange this handler runs is over.
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed, !queued.isEmpty || holdsInput {
            heldInputClosed = true
            return
        }
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if case .fast = state {
                heldQuiesce = event
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The current request is answered and read to its end; the next one may start.
    func exchangeFinished(context: ChannelHandlerContext, close: Bool) {
        let wasFast: Bool
        if case .fast = state { wasFast = true } else { wasFast = false }
        state = .idle
        lastActivity = .now()
        if close || (wasFast && quiescing) {
            context.close(promise: nil)
            return
        }
        if let event = heldQuiesce {
            heldQuiesce = nil
            context.fireUserInboundEventTriggered(event)
        }
        var drained = false
        while let next = queued.first {
            if case .head = next, !isIdle { break }
            queued.removeFirst()
            process(next, context: context)
            drained = true
        }
        // Parts passed on outside a read of the socket: the async channel delivers what it buffered on this.
        if drained { context.fireChannelReadComplete() }
        if queued.isEmpty { resumeReads(context: context) }
        if heldInputClosed && queued.isEmpty && !holdsInput {
            heldInputClosed = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    private var idleTimeAmount: TimeAmount { .nanoseconds(Int64(idleTimeout.nanoseconds)) }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleTask = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) {
            self.idleTask = nil
            let now = NIODeadline.now()
            let due = self.lastActivity + self.idleTimeAmount
            let readDue = self.lastRead + self.idleTimeAmount
            if self.isIdle && self.queued.isEmpty && due <= now {
                context.close(promise: nil)
            } else if self.awaitingRequestParts && readDue <= now {
                // A client that stopped sending in the middle of its request (a slow-body attack, or gone).
                context.close(promise: nil)
            } else {
                let next = self.awaitingRequestParts ? min(due, readDue) : due
                self.scheduleIdleCheck(context: context, at: max(next, now + .seconds(1)))
            }
        }
    }
}
