import Hummingbird
import Kernel
import Logging
import NIOCore

/// The typed request context every route receives. Tenant and principal are filled by authentication
/// middleware (Identity); handlers read them through the throwing accessors, never from headers.
package struct AppRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// Largest body the JSON helpers will collect; set per process from `max_body_bytes`.
    package var maxUploadSize: Int = 1_048_576
    /// The request id echoed in `X-Request-ID`, problem bodies and log lines.
    package var requestID: String = ""
    /// The nonce allowed by this response's Content-Security-Policy for `<script>`/`<style>` elements.
    package var cspNonce: String = ""
    package var tenant: TenantID?
    package var principal: Principal?
    /// Set by the gateway: the route that took the request and, when proxied, the upstream and its latency
    /// (for the access log and metrics).
    package var gateway: GatewayRecord?
    /// The request's W3C trace context: the client's `traceparent` when valid, else a new trace.
    package var trace: TraceContext?
    /// The connection, kept so that the peer address is only formatted when something asks for it.
    let channel: any Channel

    /// The peer address of the connection (the gateway's, behind a proxy).
    package var remoteAddress: String? { channel.remoteAddress?.ipAddress }

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The authenticated tenant, or 401 problem+json.
    package func requireTenant() throws -> TenantID {
        guard let tenant else { throw Problem.unauthorized() }
        return tenant
    }

    /// The authenticated principal, or 401 problem+json.
    package func requirePrincipal() throws -> Principal {
        guard let principal else { throw Problem.unauthorized() }
        return principal
    }

    /// Passes when the principal holds `permission`; 401 when unauthenticated, 403 otherwise (default deny).
    package func require(_ permission: Permission) throws {
        try requirePrincipal().require(permission)
    }
}

extension Principal {
    /// 403 unless the principal holds `permission`.
    package func require(_ permission: Permission) throws {
        guard permissions.contains(permission) else {
            throw Problem(status: .forbidden, detail: "this action needs the \(permission) permission")
        }
    }
}

/// What the gateway did with a request, for the access log and metrics.
package struct GatewayRecord: Sendable {
    package var route: String
    package var upstream: String?
    package var upstreamTarget: String?
    package var upstreamDuration: Duration?
    /// The request was rewritten to another path of this process and dispatched through the router again; the
    /// platform middleware then lets it straight through.
    package var redispatched = false

    package init(route: String, upstream: String? = nil) {
        self.route = route
        self.upstream = upstream
    }
}

/// The gateway's hook into the platform middleware: it runs after the request id and body limit are in place and
/// before the router, and owns authentication when present (it decides where and how to verify credentials).
/// It may answer itself (a proxied request, a refusal) or call `next` to dispatch to this process's router.
package protocol EdgeHandler: Sendable {
    func handle(
        _ request: Request, context: inout AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response

    /// Called once the router is complete, with a responder that resolves routes again (for requests the edge
    /// rewrites to another path of this process: the router resolved the original path before any middleware).
    func routerReady(_ responder: RouterResponder<AppRequestContext>, observers: EdgeObservers)

    /// A handler for each new HTTP/1 connection that answers the requests it can decide on the event loop
    /// itself (`nil`: every request goes through the router). Asked once the router is ready.
    func makeConnectionHandler() -> (any EdgeConnectionHandling)?
}

extension EdgeHandler {
    package func routerReady(_ responder: RouterResponder<AppRequestContext>, observers: EdgeObservers) {}
    package func makeConnectionHandler() -> (any EdgeConnectionHandling)? { nil }
}

/// What the platform middleware records for every request, for requests an edge answers without it: the RED
/// metrics and the access log (`nil` when switched off).
package struct EdgeObservers: Sendable {
    package let metrics: HTTPMetrics
    package let accessLog: LogSink?

    package init(metrics: HTTPMetrics, accessLog: LogSink?) {
        self.metrics = metrics
        self.accessLog = accessLog
    }
}
