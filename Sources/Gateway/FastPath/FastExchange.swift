import Foundation
import HTTPTypes
import Kernel
import Logging
import NIOCore
import NIOHTTP1
import Platform
import Synchronization

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
        if let connection = connections.takeIdle(lease.target) {
            connected(connection)
            return
        }
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
        connection.awaitResponse(by: .now() + .nanoseconds(Int64(tryTimeout.nanoseconds)))
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
            connection?.responseArrived()
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

    func upstreamTimedOut() {
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
        func dropped(_ name: String) -> Bool {
            FastPathHeaders.contains(named, name) || FastPathHeaders.equalIgnoringCase("x-request-id", name)
                || FastPathHeaders.equalIgnoringCase("traceparent", name)
        }
        // The upstream's fields as they are (one copy of their storage) unless some must go.
        var headers = upstream.headers
        if headers.contains(where: { dropped($0.name) }) {
            headers = HTTPHeaders()
            headers.reserveCapacity(upstream.headers.count + 10)
            for (name, value) in upstream.headers where !dropped(name) { headers.add(name: name, value: value) }
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
        if let connection {
            connection.responseArrived()
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
