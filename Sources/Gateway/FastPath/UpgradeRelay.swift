import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Platform

/// What the edge decided for an upgrade request (`Connection: Upgrade`, e.g. a WebSocket handshake).
enum UpgradeDecision: Sendable {
    /// Not an upgrade this gateway relays (no upstream route, an `https://` target): the ordinary path answers.
    case ordinary
    /// Refused (401, 403, 429 ...), answered as the ordinary path would.
    case refuse(Problem)
    case relay(UpgradePlan)
}

struct UpgradePlan: Sendable {
    let route: String
    let method: NIOHTTP1.HTTPMethod
    let pool: UpstreamPool
    let lease: UpstreamPool.Lease
    let uri: String
    let headers: HTTPHeaders
}

extension EdgeGateway {
    /// The checks of an ordinary request (block list, inspection of the head, credentials, the route's policy
    /// and limits, the block list for API keys) plus an Origin check, then a target of the route's upstream. The
    /// upgrade request travels on with its original headers (the module checks the token again).
    func upgradeDecision(_ nioHead: HTTPRequestHead, clientIP: String?, channel: any Channel) async -> UpgradeDecision {
        guard var head = try? HTTPRequest(nioHead, secure: tls, splitCookie: false),
            let (rawPath, query) = Optional(Self.splitQuery(nioHead.uri)),
            let path = RequestPath.normalize(rawPath)
        else { return .ordinary }
        head.path = query.map { path + $0 } ?? path
        let snapshot = routes.snapshot
        guard
            let (route, parameters) = snapshot.table.match(
                host: head.authority.map { Substring($0) }, path: Substring(path), method: head.method),
            case .upstream(let name) = route.target, let pool = snapshot.pools[name],
            !pool.settings.targets.contains(where: { $0.scheme != "http" })
        else { return .ordinary }
        let request = Request(head: head, body: .init(buffer: ByteBuffer()))
        var context = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        // Made here, before Hummingbird (which gives its contexts their ids) sees the request.
        context.requestID = RequestIDs.next()
        var checks = EdgeChecks(
            edge: self, route: route, table: snapshot.table, kind: .upgrade, address: clientIP, path: Substring(path))
        do {
            checking: while true {
                let step = checks.next()
                switch step {
                case .cors:
                    guard Self.originAllowed(head, route: route) else {
                        throw Problem(status: .forbidden, detail: "upgrades from this origin are not allowed")
                    }
                case .limitBody:
                    // A handshake's body is not relayed.
                    continue
                case .inspect:
                    _ = try await inspect(request, route: route, table: snapshot.table, context: context)
                case .refuse, .authenticate, .lookUpPlan, .countLimits:
                    _ = try await commonStep(step, &checks, request, &context, table: snapshot.table)
                case .passed:
                    break checking
                }
            }
        } catch let problem as Problem {
            return .refuse(problem)
        } catch {
            return .refuse(Problem(status: .internalServerError, detail: "the upgrade could not be checked"))
        }
        // A long-lived connection neither proves nor disproves the upstream's health: it counts for neither the
        // breaker nor ejection, only for least-connections while it lasts.
        guard let lease = pool.acquire(now: .now) else {
            return .refuse(Problem(status: .serviceUnavailable, detail: "\(name) is unavailable; try again shortly"))
        }
        pool.record(lease, outcome: .abandoned, now: .now)
        var headers = UpstreamProxy.forwardedHeaders(
            nioHead.headers, clientIP: clientIP, requestID: context.requestID,
            trace: (context.trace ?? TraceContext.makeNew(requestID: context.requestID)).child(), tls: tls)
        // The upgrade itself is the point of this request: its hop-by-hop headers go to the next hop.
        headers.replaceOrAdd(name: "Connection", value: "Upgrade")
        // A handshake has no body (one sent anyway is not relayed): no length for the upstream to wait for.
        headers.remove(name: "content-length")
        for value in nioHead.headers["upgrade"] { headers.add(name: "Upgrade", value: value) }
        route.transform?.requestHeaders.apply(to: &headers)
        let upstreamPath = route.transform?.rewrite(path: Substring(path), parameters: parameters) ?? path
        logger.info(
            "upgrade relayed",
            metadata: ["gateway.route": "\(route.name)", "gateway.upstream.address": "\(lease.target)"])
        return .relay(
            UpgradePlan(
                route: route.name, method: nioHead.method, pool: pool, lease: lease,
                uri: lease.target.basePath + (query.map { upstreamPath + $0 } ?? upstreamPath), headers: headers))
    }

    static func splitQuery(_ uri: String) -> (Substring, Substring?) {
        if let mark = uri.firstIndex(of: "?") { return (uri[..<mark], uri[mark...]) }
        return (Substring(uri), nil)
    }

    /// Browsers send cookies with a WebSocket upgrade from any site, so a page elsewhere could act as the user
    /// (cross-site WebSocket hijacking): an upgrade that names an origin must be one the route's CORS policy
    /// allows, or the gateway's own host.
    static func originAllowed(_ head: HTTPRequest, route: Route) -> Bool {
        let authority = head.authority?.lowercased()
        for value in head.headerFields[values: .origin] {
            let origin = value.lowercased()
            // Browsers send web origins; other clients (which hold their credentials themselves) may send anything.
            guard origin.hasPrefix("http://") || origin.hasPrefix("https://") else { continue }
            if let cors = route.cors {
                if !cors.allows(origin: origin) { return false }
            } else if let authority {
                if origin != "http://\(authority)" && origin != "https://\(authority)" { return false }
            } else {
                return false
            }
        }
        return true
    }
}

/// An upgrade on its way: the request goes to the target on a connection of its own; a `101` answer turns both
/// connections into a byte relay (whatever protocol they then speak: WebSocket frames of any size, or another
/// upgrade), any other answer is passed back as it is and the client's connection closes after it.
final class UpgradeExchange: @unchecked Sendable {
    private let plan: UpgradePlan
    private let handler: FastPathConnectionHandler
    private let context: ChannelHandlerContext
    private var upstream: (any Channel)?
    private var finished = false
    /// The `101` head, kept until its end: the relay starts once the decoder has finished the message.
    private var switching: HTTPResponseHead?

    init(plan: UpgradePlan, handler: FastPathConnectionHandler, context: ChannelHandlerContext) {
        self.plan = plan
        self.handler = handler
        self.context = context
    }

    func start() {
        let target = plan.lease.target
        let loop = context.eventLoop
        ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(Int64(plan.pool.settings.connectTimeout.nanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(HTTPRequestEncoder(), name: "encoder")
                    try operations.addHandler(
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)),
                        name: "decoder")
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .success(let channel): self.connected(channel)
                case .failure:
                    self.plan.pool.finish(self.plan.lease, outcome: .failure, now: .now)
                    self.handler.upgradeFailed(
                        Problem(status: .badGateway, detail: "\(self.plan.pool.settings.name) could not be reached"),
                        context: self.context)
                }
            }
    }

    private func connected(_ channel: any Channel) {
        guard !finished else {
            channel.close(promise: nil)
            plan.pool.release(plan.lease)
            return
        }
        upstream = channel
        channel.closeFuture.whenComplete { _ in self.upstreamClosed() }
        do {
            try channel.pipeline.syncOperations.addHandler(UpgradeResponseHandler(exchange: self), name: "response")
        } catch {
            channel.close(promise: nil)
            return
        }
        let head = HTTPRequestHead(version: .http1_1, method: plan.method, uri: plan.uri, headers: plan.headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// The upstream's answer to the upgrade request.
    func responseHead(_ head: HTTPResponseHead) {
        guard upstream != nil, !finished else { return }
        if head.status == .switchingProtocols {
            switching = head
        } else {
            handler.upgradeAnswered(head, context: context)
        }
    }

    func responseBody(_ buffer: ByteBuffer) {
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
    }

    func responseEnd() {
        guard !finished else { return }
        finished = true
        if let head = switching, let upstream {
            handler.upgraded(upstream: upstream, head: head, context: context)
            return
        }
        upstream?.close(promise: nil)
        handler.upgradeRefusedByUpstream(context: context)
    }

    private func upstreamClosed() {
        plan.pool.release(plan.lease)
        if !finished {
            finished = true
            handler.upgradeFailed(
                Problem(status: .badGateway, detail: "\(plan.pool.settings.name) closed the connection"),
                context: context)
        }
    }

    func clientClosed() {
        if !finished {
            finished = true
            upstream?.close(promise: nil)
        }
    }
}

/// Reads the upstream's answer to an upgrade request.
final class UpgradeResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let exchange: UpgradeExchange

    init(exchange: UpgradeExchange) {
        self.exchange = exchange
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): exchange.responseHead(head)
        case .body(let buffer): exchange.responseBody(buffer)
        case .end: exchange.responseEnd()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// One side of a byte relay between two channels of the same event loop: what one reads the other writes, and
/// a side that cannot take more stops the other from reading. Closing either closes both.
final class GlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func pair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    /// Writes bytes of this side's own (the `101` answer).
    func writeDirect(_ buffer: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Writes from the partner are kept (not written) until `release`.
    private var held: [NIOAny]?

    func hold() {
        held = []
    }

    func release() {
        guard let pending = held else { return }
        held = nil
        for data in pending { context?.write(data, promise: nil) }
        context?.flush()
    }

    func flushNow() {
        context?.flush()
    }

    private func partnerWrite(_ data: NIOAny) {
        if held != nil {
            held?.append(data)
        } else {
            context?.write(data, promise: nil)
        }
    }

    private func partnerFlush() {
        if held == nil { context?.flush() }
    }

    private func partnerClose() {
        context?.close(promise: nil)
    }

    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
