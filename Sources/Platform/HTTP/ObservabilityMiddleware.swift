import HTTPTypes
import Hummingbird
import Logging

/// Request id, access log and RED metrics in one middleware (one clock read pair, one pass), so together they
/// stay within the performance budget of ARCHITECTURE.md. Outermost in the chain: it sees the final status.
public struct ObservabilityMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let metrics: HTTPMetrics
    /// `nil` when the access log is switched off.
    let accessLog: LogSink?

    public init(metrics: HTTPMetrics, accessLog: LogSink?) {
        self.metrics = metrics
        self.accessLog = accessLog
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        let requestID: String
        if let clientID = Self.acceptableRequestID(request.headers[.xRequestID]) {
            requestID = clientID
            // Log lines of this request then carry the id the client knows (costs a metadata copy, so only here).
            context.logger[metadataKey: "hb.request.id"] = .string(clientID)
        } else {
            requestID = context.id
        }
        context.requestID = requestID
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The error middleware sits inside this one; this only catches errors thrown around it.
            response = ErrorMiddleware.problem(for: error, context: context)
                .response(instance: request.uri.path, requestID: requestID)
        }
        response.headers[.xRequestID] = requestID
        if let traceparent = request.headers[.traceparent] { response.headers[.traceparent] = traceparent }
        let duration = ContinuousClock.now - start
        let endpoint = context.endpointPath
        let route = endpoint == nil || endpoint == "NotFound" ? "unmatched" : endpoint!
        metrics.record(route: route, method: request.method, status: Int(response.status.code), duration: duration)
        if let accessLog {
            accessLog.write(
                line: Self.accessLine(
                    request: request, response: response, context: context, route: route, duration: duration))
        }
        return response
    }

    /// Echo a client's id only when it is short and plain (it ends up in logs).
    static func acceptableRequestID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let plain = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        return plain ? value : nil
    }

    /// One ECS-shaped JSON line per request.
    static func accessLine(
        request: Request, response: Response, context: Context, route: String, duration: Duration
    ) -> String {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        var line = "{\"@timestamp\":\"\(LogTimestamp.now())\",\"log.level\":\"info\",\"message\":\"request\""
        line += ",\"event.dataset\":\"http.access\",\"http.request.method\":\"\(request.method.rawValue)\""
        line += ",\"url.path\":" + JSONText.quote(request.uri.path)
        line += ",\"http.route\":" + JSONText.quote(route)
        line += ",\"http.response.status_code\":\(response.status.code)"
        if let bytes = response.body.contentLength { line += ",\"http.response.body.bytes\":\(bytes)" }
        line += ",\"event.duration\":\(nanoseconds)"
        line += ",\"request.id\":" + JSONText.quote(context.requestID)
        if let address = context.remoteAddress { line += ",\"client.ip\":" + JSONText.quote(address) }
        if let tenant = context.tenant { line += ",\"tenant.id\":\"\(tenant)\"" }
        if let principal = context.principal { line += ",\"user.id\":" + JSONText.quote(principal.subject) }
        if let agent = request.headers[.userAgent] { line += ",\"user_agent.original\":" + JSONText.quote(agent) }
        line += "}"
        return line
    }
}

extension HTTPField.Name {
    static let traceparent = HTTPField.Name("traceparent")!
}
