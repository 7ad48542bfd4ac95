import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore
import Platform
import SQLKit
import ServiceLifecycle

/// `GET /api/v1/messaging/stream`: the tenant's events as server-sent events (`id`, `event` = type, `data` = the
/// CloudEvents envelope), for the web apps to refresh views without a reload. `types=crm.*,erp.order.paid`
/// narrows them; `Last-Event-ID` (sent by browsers when they reconnect) first replays what was missed, from the
/// outbox, as far as it still holds it. A comment line every 15 seconds keeps proxies from closing the stream.
///
/// The same address opened as a WebSocket (the alternative for clients that prefer one) sends the same events,
/// each as one text message holding the CloudEvents envelope; `last_event_id=` in the query replays as
/// `Last-Event-ID` does (browsers cannot set headers on a WebSocket). It is accepted only for an authenticated
/// request from this site (an `Origin` other than the request's own host is refused: a cookie would otherwise let
/// any page read the user's events) and pings every 15 seconds.
struct LiveRoutes: Sendable {
    let services: MessagingServices
    let hub: LiveHub
    static let heartbeat: Duration = .seconds(15)
    static let replayLimit = 1_000

    enum Item: Sendable {
        case event(LiveEvent)
        case heartbeat
    }

    func register(on routes: RouteRegistrar) {
        routes.get("\(MessagingAPI.base)/stream") { request, context in try await stream(request, context) }
    }

    /// The request's filter: its tenant, its principal's permissions, the `types` it asks for.
    static func filter(_ request: Request, _ context: AppRequestContext) throws -> LiveFilter {
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        let types = (request.query("types") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        guard types.count <= 50, types.allSatisfy({ $0.count <= 200 }) else {
            throw Problem(status: .badRequest, detail: "types: at most 50 event types or prefixes")
        }
        return LiveFilter(tenant: tenant, permissions: principal.permissions, types: types)
    }

    /// The WebSocket form (see the type).
    var webSocketRoute: WebSocketRoute {
        WebSocketRoute(path: "\(MessagingAPI.base)/stream") { request, context in
            guard Self.isSameOrigin(request) else {
                throw Problem(status: .forbidden, detail: "a WebSocket to this address is opened from this site only")
            }
            let filter = try Self.filter(request, context)
            let hub = self.hub
            let events = hub.subscribe(filter)
            let missed = try await replay(after: request.query("last_event_id"), filter: filter)
            // Room for the whole replay besides the live buffer: live events arriving meanwhile must not push
            // replayed ones out.
            let (messages, feed) = AsyncStream<String>.makeStream(
                bufferingPolicy: .bufferingNewest(LiveHub.bufferPerClient + Self.replayLimit))
            let pump = Task {
                for event in missed { feed.yield(event.json) }
                for await event in events { feed.yield(event.json) }
                feed.finish()
            }
            feed.onTermination = { _ in pump.cancel() }
            return WebSocketFeed(messages: messages)
        }
    }

    /// Whether a WebSocket request comes from this site, by the gateway's rule (`UpgradeRelay.originAllowed`):
    /// every web origin it names (`http://`, `https://`: what browsers send) is the request's own host; other
    /// clients, which hold their credentials themselves, may send anything or nothing.
    static func isSameOrigin(_ request: Request) -> Bool {
        let authority = request.head.authority?.lowercased()
        for value in request.head.headerFields[values: .origin] {
            let origin = value.lowercased()
            // `null`: a sandboxed frame or a `data:` page, which a cookie must not let in either.
            if origin == "null" { return false }
            guard origin.hasPrefix("http://") || origin.hasPrefix("https://") else { continue }
            guard let authority, origin == "http://\(authority)" || origin == "https://\(authority)" else {
                return false
            }
        }
        return true
    }

    func stream(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let filter = try Self.filter(request, context)
        if request.headers[.upgrade]?.lowercased() == "websocket" {
            // An upgrade not taken before routing: not a connection's first request, or not a valid handshake.
            throw Problem(
                status: .badRequest,
                detail:
                    "a WebSocket is opened as the first request of a connection, with Sec-WebSocket-Key and version 13 (or read the same events as server-sent events, without Upgrade)"
            )
        }
        let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!]
        let hub = self.hub
        // Everything with a lifetime (the subscription, the pump, the heartbeat) starts and ends inside the body
        // writer, so a client gone before the body starts leaves nothing behind.
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ],
            body: ResponseBody { writer in
                // Subscribe before replaying, so nothing falls between the two (a repeat is possible; ids tell).
                let events = hub.subscribe(filter)
                let (items, feed) = AsyncStream<Item>.makeStream(
                    bufferingPolicy: .bufferingNewest(LiveHub.bufferPerClient))
                let pump = Task {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await event in events { feed.yield(.event(event)) }
                            feed.finish()
                        }
                        group.addTask {
                            while !Task.isCancelled {
                                try? await Task.sleep(for: Self.heartbeat)
                                feed.yield(.heartbeat)
                            }
                        }
                        await group.next()
                        group.cancelAll()
                    }
                }
                defer {
                    pump.cancel()
                    feed.finish()
                }
                let missed = try await replay(after: lastEventID, filter: filter)
                try await withGracefulShutdownHandler {
                    try await writer.write(ByteBuffer(string: ": connected\nretry: 3000\n\n"))
                    for event in missed { try await writer.write(Self.frame(event)) }
                    for await item in items {
                        switch item {
                        case .event(let event): try await writer.write(Self.frame(event))
                        case .heartbeat: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        }
                    }
                } onGracefulShutdown: {
                    feed.finish()
                }
                try await writer.finish(nil)
            })
    }

    static func frame(_ event: LiveEvent) -> ByteBuffer {
        // The envelope is one line of JSON (the encoder writes no line breaks), so one `data:` line carries it.
        ByteBuffer(string: "id: \(event.id)\nevent: \(event.type)\ndata: \(event.json)\n\n")
    }

    /// The tenant's events after `lastEventID` (UUIDv7 ids sort by time) that the filter admits.
    func replay(after lastEventID: String?, filter: LiveFilter) async throws -> [LiveEvent] {
        guard let lastEventID, UUID(uuidString: lastEventID) != nil else { return [] }
        let last = lastEventID.lowercased()
        let tenant = filter.tenant
        let rows = try await services.database.read(tenant: tenant) { tx in
            let payload: SQLQueryString = tx.dialect == .postgres ? "payload::text" : "payload"
            let tenantColumn: SQLQueryString = tx.dialect == .postgres ? "tenant_id::text" : "tenant_id"
            return try await tx.sql.raw(
                """
                SELECT id, type, \(payload) AS payload FROM event_outbox
                WHERE \(tenantColumn) = \(bind: tenant.rawValue.lowercasedString) AND id > \(bind: last)
                ORDER BY seq LIMIT \(bind: Self.replayLimit)
                """
            ).all().map {
                LiveEvent(
                    tenant: tenant, id: try $0.decode(column: "id", as: String.self),
                    type: try $0.decode(column: "type", as: String.self),
                    json: try $0.decode(column: "payload", as: String.self))
            }
        }
        return rows.filter(filter.admits)
    }
}
