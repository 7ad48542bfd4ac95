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
            EventLoopFuture.andAllComplete(removals, on: upstream.eventLoop).whenComplete { _ in
                upstreamSide.release()
                clientSide.flushNow()
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

/// One proxied request on the fast path, from the head to the end of the response: picks a target, sends the
/// request on a pooled connection of the event loop, retries like `UpstreamProxy`, and streams the response
/// back with the headers the ordinary path would give it.
///
/// Confined to the client connection's event loop, as are its upstream connections (hence unchecked).
final class FastExchange: UpstreamConnectionDelegate, @unchecked Sendable {
    let plan: FastPathPlan?
    let identity: FastPathPlan.Identity
    // Strong: an exchange may outlive the connection's pipeline (a connect completing after the client left);
    // the cycle through `state` ends when the exchange does.
    let handler: FastPathConnectionHandler
    let context: ChannelHandlerContext

    private var connection: UpstreamConnection?
    private var lease: UpstreamPool.Lease?
    private var tried: Set<Int> = []
    private var attempt = 0
    private var staleRetried = false
    private var requestEnded = false
    private var pendingBody: [ByteBuffer] = []
    private var pendingBytes = 0
    private var requestSent = false
    private var responseHeadSent = false
    private var responseEnded = false
    private var upstreamKeepAlive = false
    /// Dropping a 502/503/504 answer that is going to be retried.
    private var discarding = false
    private var receivedFromUpstream = false
    private var timeout: Scheduled<Void>?
    private var firstSent: ContinuousClock.Instant?
    private var upstreamDuration: Duration?
    private var status = 0
    private var bytes = 0
    private var finished = false
    private var closeAfterResponse = false
    private var target: String?
    /// Past the limits, on the way upstream (refusals before count as the ordinary path's: upstream `local`).
    private var passedLimits = false
    private let started: ContinuousClock.Instant

    init(
        plan: FastPathPlan?, identity: FastPathPlan.Identity, handler: FastPathConnectionHandler,
        context: ChannelHandlerContext
    ) {
        self.plan = plan
        self.identity = identity
        self.handler = handler
        self.context = context
        self.closeAfterResponse = identity.closeAfter
        self.started = plan?.started ?? .now
    }

    var requestComplete: Bool { requestEnded }

    /// Stop reading the client while the upstream cannot take more of the body.
    var holdsReads: Bool {
        // Answered already: the rest of the request is read and dropped.
        if responseEnded { return false }
        if let connection { return !connection.channel.isWritable }
        return pendingBytes > 256 * 1024
    }

    // MARK: Request side

    func start() {
        guard let plan, !plan.pendingLimits.isEmpty else {
            tryTarget()
            return
        }
        // The shared limiter answers asynchronously (a Redis round trip); the exchange resumes on its loop.
        let edge = handler.fast.edge
        let checks = plan.pendingLimits
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        Task {
            let decisions = await edge.limiter.check(checks)
            loop.execute { bound.value.limitsDecided(decisions) }
        }
    }

    private func limitsDecided(_ decisions: [RateLimitDecision]) {
        guard let plan, !finished else { return }
        do {
            plan.limitHeaders = try handler.fast.edge.decideLimits(
                route: plan.route, checks: plan.pendingLimits, decisions: decisions)
        } catch {
            answer(error as? Problem ?? Problem(status: .internalServerError))
            return
        }
        tryTarget()
    }

    private func tryTarget() {
        guard let plan, let connections = handler.connections else { return }
        passedLimits = true
        let settings = plan.pool.settings
        guard let lease = plan.pool.acquire(now: .now, avoiding: tried, isRetry: attempt > 0 || staleRetried) else {
            fail(
                Problem(
                    status: .serviceUnavailable, detail: "\(settings.name) is unavailable; try again shortly",
                    headers: [.retryAfter: "\(max(1, Int(settings.breakerOpen.components.seconds)))"]))
            return
        }
        tried.insert(lease.index)
        self.lease = lease
        target = lease.target.description
        if firstSent == nil { firstSent = .now }
        receivedFromUpstream = false
        connections.lease(lease.target, connectTimeout: settings.connectTimeout).whenComplete { result in
            switch result {
            case .success(let connection): self.connected(connection)
            case .failure(let error): self.tryFailed(error, timedOut: false)
            }
        }
    }

    private func connected(_ connection: UpstreamConnection) {
        guard let plan, !finished, let lease else {
            if let lease {
                plan?.pool.finish(lease, outcome: .abandoned, now: .now)
                self.lease = nil
            }
            handler.connections?.giveBack(connection)
            return
        }
        self.connection = connection
        wasReused = connection.reused
        connection.handler.exchange = self
        let channel = connection.channel
        let head = HTTPRequestHead(
            version: .http1_1, method: plan.method, uri: lease.target.basePath + plan.upstreamURI,
            headers: plan.headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        for buffer in pendingBody { channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil) }
        if requestEnded {
            channel.write(HTTPClientRequestPart.end(nil), promise: nil)
            requestSent = true
        }
        channel.flush()
        // Only requests without a body are tried again, so nothing sent needs keeping.
        pendingBody = []
        pendingBytes = 0
        let tryTimeout = plan.pool.settings.tryTimeout
        timeout = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(
            in: .nanoseconds(Int64(tryTimeout.nanoseconds))
        ) {
            self.timedOut()
        }
        handler.resumeReads(context: context)
    }

    func requestBody(_ buffer: ByteBuffer) {
        guard plan != nil, !responseEnded else { return }
        if let connection, !discarding {
            connection.channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        } else if !responseEnded {
            pendingBody.append(buffer)
            pendingBytes += buffer.readableBytes
        }
    }

    func requestEnd() {
        requestEnded = true
        if let connection, !requestSent, !discarding {
            connection.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            requestSent = true
        }
        if responseEnded { complete() }
    }

    // MARK: Upstream side

    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard let plan, !finished else { return }
        receivedFromUpstream = true
        switch part {
        case .head(let head):
            timeout?.cancel()
            timeout = nil
            if let firstSent { upstreamDuration = ContinuousClock.now - firstSent }
            let code = Int(head.status.code)
            let failed = code == 502 || code == 503 || code == 504
            if let lease { plan.pool.record(lease, outcome: failed ? .failure : .success, now: .now) }
            upstreamKeepAlive = head.isKeepAlive
            if failed, plan.retriable, attempt < plan.pool.settings.retries, plan.pool.mayRetry() {
                discarding = true
                return
            }
            writeResponseHead(head, plan: plan)
        case .body(let buffer):
            guard !discarding else { return }
            bytes += buffer.readableBytes
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
        case .end:
            let connection = self.connection
            self.connection = nil
            connection?.handler.exchange = nil
            if let connection {
                if upstreamKeepAlive && requestSent {
                    handler.connections?.giveBack(connection)
                } else {
                    connection.channel.close(promise: nil)
                }
            }
            if let lease {
                plan.pool.release(lease)
                self.lease = nil
            }
            if discarding {
                discarding = false
                attempt += 1
                tryTarget()
                return
            }
            responseEnded = true
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            if requestEnded { complete() } else { answeredEarly() }
        }
    }

    func upstreamReadComplete() {
        if responseHeadSent && !responseEnded { context.flush() }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        if writable { handler.resumeReads(context: context) }
    }

    func clientWritabilityChanged(_ writable: Bool) {
        // Reading the upstream stops while the client cannot take more of the response.
        if let connection {
            connection.readingPaused = !writable
            try? connection.channel.syncOptions?.setOption(.autoRead, value: writable)
        }
    }

    func upstreamClosed(_ error: (any Error)?) {
        guard let plan, !finished else { return }
        connection = nil
        timeout?.cancel()
        timeout = nil
        if responseEnded { return }
        if responseHeadSent {
            // Cut off in the middle of the body: the client's connection is closed too (it cannot be told).
            if let lease { plan.pool.release(lease) }
            lease = nil
            finished = true
            record()
            handler.exchangeFinished(context: context, close: true)
            return
        }
        if discarding, let lease {
            discarding = false
            plan.pool.release(lease)
            self.lease = nil
            attempt += 1
            tryTarget()
            return
        }
        if !receivedFromUpstream, !staleRetried, plan.retriable, let lease, wasReused {
            // A kept-alive connection the upstream had closed: not the target's failure; once more on a new one.
            staleRetried = true
            plan.pool.finish(lease, outcome: .abandoned, now: .now)
            self.lease = nil
            tried.remove(lease.index)
            tryTarget()
            return
        }
        tryFailed(error ?? ChannelError.eof, timedOut: false)
    }

    private var wasReused = false

    private func timedOut() {
        timeout = nil
        guard !finished, !responseHeadSent else { return }
        if let connection {
            connection.handler.exchange = nil
            connection.channel.close(promise: nil)
            self.connection = nil
        }
        discarding = false
        tryFailed(ChannelError.connectTimeout(.zero), timedOut: true)
    }

    private func tryFailed(_ error: any Error, timedOut: Bool) {
        guard let plan, !finished else { return }
        if let lease {
            plan.pool.finish(lease, outcome: .failure, now: .now)
            self.lease = nil
        }
        if plan.retriable, attempt < plan.pool.settings.retries, plan.pool.mayRetry() {
            attempt += 1
            tryTarget()
            return
        }
        let name = plan.pool.settings.name
        fail(
            timedOut
                ? Problem(status: .gatewayTimeout, detail: "\(name) did not answer in time")
                : Problem(status: .badGateway, detail: "\(name) could not be reached"))
    }

    // MARK: Answers

    /// A refusal decided before any upstream (a used-up limit).
    func answer(_ problem: Problem) {
        writeProblem(problem)
        if requestEnded { complete() } else { answeredEarly() }
    }

    private func fail(_ problem: Problem) {
        handler.fast.edge.logger.error(
            "request failed",
            metadata: [
                "gateway.route": "\(identity.route)", "gateway.upstream.address": "\(target ?? "-")",
                "http.response.status_code": "\(problem.status.code)", "request.id": "\(identity.requestID)",
            ])
        writeProblem(problem)
        if requestEnded { complete() } else { answeredEarly() }
    }

    /// The answer is out while the request is still coming: what is left of it is read and dropped.
    private func answeredEarly() {
        pendingBody = []
        pendingBytes = 0
        handler.resumeReads(context: context)
    }

    private func writeProblem(_ problem: Problem) {
        let body = problem.body(instance: identity.path, requestID: identity.requestID)
        var headers = HTTPHeaders()
        for field in problem.headers { headers.add(name: field.name.rawName, value: field.value) }
        headers.add(name: "Content-Type", value: "application/problem+json")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        addPlatformHeaders(&headers)
        status = Int(problem.status.code)
        bytes = body.readableBytes
        responseHeadSent = true
        responseEnded = true
        let head = HTTPResponseHead(
            version: .http1_1, status: .init(statusCode: Int(problem.status.code)), headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }

    private func writeResponseHead(_ upstream: HTTPResponseHead, plan: FastPathPlan) {
        let named = FastPathHeaders.hopByHopNames(upstream.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(upstream.headers.count + 10)
        for (name, value) in upstream.headers {
            if FastPathHeaders.contains(named, name) || FastPathHeaders.equalIgnoringCase("x-request-id", name)
                || FastPathHeaders.equalIgnoringCase("traceparent", name)
            {
                continue
            }
            headers.add(name: name, value: value)
        }
        plan.route.transform?.responseHeaders.apply(to: &headers)
        for field in plan.limitHeaders { headers.add(name: field.name.rawName, value: field.value) }
        let inGateway = (ContinuousClock.now - plan.started) - (upstreamDuration ?? .zero)
        headers.replaceOrAdd(name: "X-Inopsio-Gateway-Latency", value: EdgeGateway.milliseconds(inGateway))
        addPlatformHeaders(&headers)
        status = Int(upstream.status.code)
        responseHeadSent = true
        context.write(
            NIOAny(
                HTTPServerResponsePart.head(
                    HTTPResponseHead(version: .http1_1, status: upstream.status, headers: headers))),
            promise: nil)
    }

    /// What the platform middleware adds to every answer: security headers, the request id, the trace.
    private func addPlatformHeaders(_ headers: inout HTTPHeaders) {
        SecurityHeaders.apply(
            to: &headers, isPage: SecurityHeaders.mayBePage(identity.path), tls: handler.fast.edge.tls)
        headers.replaceOrAdd(name: "X-Request-ID", value: identity.requestID)
        headers.replaceOrAdd(name: "traceparent", value: identity.trace.header)
        if closeAfterResponse || handler.quiescing {
            closeAfterResponse = true
            headers.replaceOrAdd(name: "Connection", value: "close")
        }
    }

    // MARK: End

    /// The client went away (or sent something broken): the upstream's connection is not reusable.
    func clientClosed() {
        guard !finished else { return }
        finished = true
        timeout?.cancel()
        timeout = nil
        if let connection {
            connection.handler.exchange = nil
            connection.channel.close(promise: nil)
            self.connection = nil
        }
        if let lease, let plan {
            if responseHeadSent {
                plan.pool.release(lease)
            } else {
                plan.pool.finish(lease, outcome: .abandoned, now: .now)
            }
            self.lease = nil
        }
        // As the router's path records a response it produced even when the client left while it was written.
        if responseHeadSent { record() }
    }

    private func complete() {
        guard !finished else { return }
        finished = true
        record()
        handler.exchangeFinished(context: context, close: closeAfterResponse)
    }

    /// The platform's RED metrics and access log line, and the gateway's metrics, as for any request.
    private func record() {
        let duration = ContinuousClock.now - started
        let fast = handler.fast
        fast.observers.metrics.record(
            route: "gateway:" + identity.route, method: identity.method, status: status, duration: duration)
        let upstream = passedLimits ? plan?.upstream : nil
        fast.edge.metrics.request(
            route: identity.route, upstream: upstream ?? "local", status: status, upstreamDuration: upstreamDuration)
        fast.edge.metrics.fastPath(route: identity.route)
        if let sink = fast.observers.accessLog {
            var gateway = GatewayRecord(route: identity.route, upstream: upstream)
            gateway.upstreamTarget = target
            gateway.upstreamDuration = upstreamDuration
            AccessLog.write(
                to: sink,
                entry: AccessLogEntry(
                    method: identity.method.rawValue, path: identity.path, route: "gateway:" + identity.route,
                    status: status, bytes: bytes, duration: duration, gateway: gateway,
                    requestID: identity.requestID, traceID: identity.trace.traceID, clientIP: identity.clientIP,
                    tenant: identity.tenant?.description, user: identity.subject, userAgent: identity.userAgent))
        }
    }
}
