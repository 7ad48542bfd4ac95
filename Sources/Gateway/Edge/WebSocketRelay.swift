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
        guard let path = RequestPath.normalize((head.path ?? "/").prefix { $0 != "?" }) else { return .dontUpgrade }
        guard
            let (route, parameters) = snapshot.table.match(
                host: head.authority.map { Substring($0) }, path: Substring(path), method: head.method),
            case .upstream(let name) = route.target, let pool = snapshot.pools[name]
        else { return .dontUpgrade }
        let request = Request(head: head, body: .init(buffer: ByteBuffer()))
        var context = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        context.requestID = context.id
        // Every check an ordinary request meets; any refusal falls through to the HTTP path, which answers it.
        do {
            let now = Date()
            if edge.blocks.blocks(address: context.remoteAddress, now: now) { return .dontUpgrade }
            guard Self.originAllowed(head, route: route) else { return .dontUpgrade }
            if route.inspection != .off {
                _ = try await edge.inspect(request, route: route, table: snapshot.table, context: context)
            }
            if let authentication = try await edge.authenticator.authenticate(
                request, context: context, table: snapshot.table)
            {
                context.tenant = authentication.tenant
                context.principal = authentication.principal
            }
            if let principal = context.principal, principal.kind == .apiKey,
                edge.blocks.blocks(apiKey: principal.subject, now: now)
            {
                return .dontUpgrade
            }
            try EdgeGateway.enforce(route.auth, principal: context.principal)
            let quotas = route.defaultLimits && path.hasPrefix("/api/") ? snapshot.table.defaultLimits : []
            if !route.limits.isEmpty || !quotas.isEmpty {
                _ = try await edge.applyLimits(route: route, quotas: quotas, context: context)
            }
        } catch {
            return .dontUpgrade
        }
        // The target is picked by the upstream's balancing; a long-lived WebSocket neither proves nor disproves the
        // upstream's health, so it counts for neither the breaker nor ejection.
        guard let lease = pool.acquire(now: .now) else { return .dontUpgrade }
        pool.finish(lease, outcome: .abandoned, now: .now)
        let target = lease.target
        var forwarded = HTTPFields()
        for field in head.headerFields where !Self.handshakeHeaders.contains(field.name.canonicalName) {
            forwarded.append(field)
        }
        route.transform?.requestHeaders.apply(to: &forwarded)
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
