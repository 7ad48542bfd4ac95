import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// The platform's one middleware, outermost on every route (and on unknown ones): request id, body limit,
/// error mapping, authentication, security headers, RED metrics and the access log, in a single pass. They are one layer, not
/// six, because each async middleware layer costs throughput (ARCHITECTURE.md's budget); each part is a small
/// type of its own (`BodyLimit`, `ErrorMapper`, `SecurityHeaders`, `HTTPMetrics`, `AccessLog`).
package struct PlatformMiddleware: RouterMiddleware {
    package typealias Context = AppRequestContext
    let metrics: HTTPMetrics
    /// `nil` when the access log is switched off.
    let accessLog: LogSink?
    let errors: ErrorMapper
    let maxBodyBytes: Int
    /// Where modules take files, and the body limit there (`max_upload_bytes`).
    let uploads: UploadPaths
    let maxUploadBytes: Int
    let tls: Bool
    /// Fills `tenant` and `principal` from the request's credentials; `nil` when no module authenticates.
    let authenticator: (any RequestAuthenticator)?
    /// The gateway, when this process runs it; it then authenticates instead of `authenticator`.
    let edge: (any EdgeHandler)?

    package init(
        metrics: HTTPMetrics, accessLog: LogSink?, errorPages: (any ErrorPageRenderer)?, maxBodyBytes: Int,
        uploads: UploadPaths = UploadPaths([]), maxUploadBytes: Int = 0, tls: Bool = false,
        authenticator: (any RequestAuthenticator)? = nil, edge: (any EdgeHandler)? = nil
    ) {
        self.uploads = uploads
        self.maxUploadBytes = maxUploadBytes
        self.edge = edge
        self.authenticator = authenticator
        self.metrics = metrics
        self.accessLog = accessLog
        self.errors = ErrorMapper(pages: errorPages)
        self.maxBodyBytes = maxBodyBytes
        self.tls = tls
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // Second pass of a request the gateway rewrote to another local path: everything was done on the first.
        if context.gateway?.redispatched == true { return try await next(request, context) }
        let start = ContinuousClock.now
        var context = context
        if let clientID = Self.acceptableRequestID(request.headers[.xRequestID]) {
            context.requestID = clientID
            // Log lines of this request then carry the id the client knows (costs a metadata copy, so only here).
            context.logger[metadataKey: "hb.request.id"] = .string(clientID)
        } else {
            context.requestID = context.id
        }
        context.maxUploadSize = maxBodyBytes
        let incomingTrace = request.headers[.traceparent].flatMap(TraceContext.init(traceparent:))
        context.trace = incomingTrace ?? TraceContext.makeNew(requestID: context.id)
        let isPage = SecurityHeaders.mayBePage(request.uri.path)
        if isPage { context.cspNonce = SecurityHeaders.makeNonce() }
        var response: Response
        do {
            var request = request
            // No store keeps a NUL character (PostgreSQL refuses it in text): a query naming one is malformed.
            if let query = request.uri.query, query.range(of: "%00") != nil {
                throw Problem(status: .badRequest, detail: "query parameters may not contain NUL characters (%00)")
            }
            if let edge {
                // The gateway applies the body limit of the route it matches.
                response = try await edge.handle(request, context: &context, next: next)
            } else {
                let upload = uploads.matches(method: request.method, path: Substring(request.uri.path))
                try BodyLimit.apply(to: &request, limit: upload ? maxUploadBytes : maxBodyBytes)
                if let authenticator,
                    let authentication = try await authenticator.authenticate(request, context: context)
                {
                    context.tenant = authentication.tenant
                    context.principal = authentication.principal
                }
                response = try await next(request, context)
            }
        } catch {
            response = errors.response(for: error, request: request, context: context)
        }
        SecurityHeaders.apply(to: &response, isPage: isPage, nonce: context.cspNonce, tls: tls)
        response.headers[.xRequestID] = context.requestID
        // During a graceful shutdown the server closes each connection after its current response; saying so lets
        // clients open a new connection (to another instance) instead of sending into one about to close.
        if Task.isShuttingDownGracefully { response.headers[.connection] = "close" }
        if let trace = context.trace { response.headers[.traceparent] = trace.header }
        let duration = ContinuousClock.now - start
        let endpoint = context.endpointPath
        let route: String
        if let endpoint, endpoint != "NotFound" {
            route = endpoint
        } else if let gateway = context.gateway, gateway.route != "local" {
            route = "gateway:" + gateway.route
        } else {
            route = "unmatched"
        }
        metrics.record(route: route, method: request.method, status: Int(response.status.code), duration: duration)
        if let accessLog {
            AccessLog.write(
                to: accessLog, request: request, response: response, context: context, route: route, duration: duration)
        }
        return response
    }

    /// Echo a client's id only when it is short and plain (it ends up in logs).
    package static func acceptableRequestID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let plain = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        return plain ? value : nil
    }
}

extension HTTPField.Name {
    static let traceparent = HTTPField.Name("traceparent")!
}
