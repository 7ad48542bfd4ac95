import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import Platform

/// WebSocket pass-through: an upgrade request on a route to a remote upstream goes through the same edge checks
/// as any request (block list, credentials, the route's auth policy and limits); if they pass, the client's
/// connection is upgraded and relayed message by message to a WebSocket opened to one of the upstream's targets,
/// with the original headers (the module checks the token again). A refused or unmatched upgrade falls through
/// to ordinary HTTP handling, which answers it (401, 403, 429, 404 ...). Relayed messages are up to 1 MiB.
package struct WebSocketRelay: Sendable {
    let edge: EdgeGateway
    static let maxMessageSize = 1 << 20

    /// Whether to upgrade `head`, and the relay that then runs. Runs before the HTTP machinery, so it makes up
    /// the request context the edge checks need.
    package func shouldUpgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger) async
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        let snapshot = edge.routes.snapshot
        let path = head.path.map { String($0.prefix { $0 != "?" }) } ?? "/"
        guard
            let (route, parameters) = snapshot.table.match(
                host: head.authority.map { Substring($0) }, path: Substring(path), method: head.method),
            case .upstream(let name) = route.target, let pool = snapshot.pools[name]
        else { return .dontUpgrade }
        let request = Request(head: head, body: .init(buffer: ByteBuffer()))
        var context = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        context.requestID = context.id
        do {
            if edge.blocks.blocks(address: context.remoteAddress, now: Date()) { return .dontUpgrade }
            if let authentication = try await edge.authenticator.authenticate(
                request, context: context, table: snapshot.table)
            {
                context.tenant = authentication.tenant
                context.principal = authentication.principal
            }
            try EdgeGateway.enforce(route.auth, principal: context.principal)
            if !route.limits.isEmpty {
                _ = try await edge.applyLimits(route: route, quotas: [], context: context)
            }
        } catch {
            // The HTTP path answers the same request with the reason (401, 403, 429 ...).
            return .dontUpgrade
        }
        guard let lease = pool.acquire(now: .now) else { return .dontUpgrade }
        pool.finish(lease, outcome: .success, now: .now)
        let target = lease.target
        var forwarded = HTTPFields()
        for field in head.headerFields where !Self.handshakeHeaders.contains(field.name.canonicalName) {
            forwarded.append(field)
        }
        forwarded[.xRequestID] = context.requestID
        if let client = context.remoteAddress { forwarded[HTTPField.Name("X-Forwarded-For")!] = client }
        var query = ""
        if let full = head.path, let mark = full.firstIndex(of: "?") { query = String(full[mark...]) }
        let upstreamPath = route.transform?.rewrite(path: Substring(path), parameters: parameters) ?? path
        let scheme = target.scheme == "https" ? "wss" : "ws"
        let url = "\(scheme)://\(target.host):\(target.port)\(target.basePath)\(upstreamPath)\(query)"
        logger.info(
            "websocket relayed", metadata: ["gateway.route": "\(route.name)", "gateway.upstream.address": "\(target)"])
        let headers = forwarded
        return .upgrade([:]) { inbound, outbound, _ in
            do {
                try await WebSocketClient.connect(
                    url: url, configuration: .init(maxFrameSize: Self.maxMessageSize, additionalHeaders: headers),
                    logger: logger
                ) { upstreamInbound, upstreamOutbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in inbound.messages(maxSize: Self.maxMessageSize) {
                                try await upstreamOutbound.write(Self.frame(message))
                            }
                            try? await upstreamOutbound.close(.normalClosure, reason: nil)
                        }
                        group.addTask {
                            for try await message in upstreamInbound.messages(maxSize: Self.maxMessageSize) {
                                try await outbound.write(Self.frame(message))
                            }
                            try? await outbound.close(.normalClosure, reason: nil)
                        }
                        // When either side ends, the other is closed.
                        try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                logger.warning(
                    "websocket relay to the upstream failed",
                    metadata: ["error.message": "\(String(reflecting: error))"])
                try? await outbound.close(.unexpectedServerError, reason: "upstream unavailable")
            }
        }
    }

    static func frame(_ message: WebSocketMessage) -> WebSocketOutboundWriter.OutboundFrame {
        switch message {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }

    /// The handshake is per connection: the client opens its own to the upstream.
    static let handshakeHeaders: Set<String> = [
        "connection", "upgrade", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
        "sec-websocket-accept", "host", "content-length", "transfer-encoding",
    ]
}
