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
            Self.writeAccessLine(
                to: accessLog, request: request, response: response, context: context, route: route, duration: duration)
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

    /// Writes one ECS-shaped JSON line per request straight into the sink's buffer.
    static func writeAccessLine(
        to sink: LogSink, request: Request, response: Response, context: Context, route: String, duration: Duration
    ) {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        sink.record { line in
            line.raw("{\"@timestamp\":")
            line.timestamp()
            line.raw(",\"log.level\":\"info\",\"message\":\"request\",\"event.dataset\":\"http.access\",\"http.request.method\":")
            line.quoted(request.method.rawValue)
            line.raw(",\"url.path\":")
            line.quoted(request.uri.path)
            line.raw(",\"http.route\":")
            line.quoted(route)
            line.raw(",\"http.response.status_code\":")
            line.integer(Int(response.status.code))
            if let bytes = response.body.contentLength {
                line.raw(",\"http.response.body.bytes\":")
                line.integer(bytes)
            }
            line.raw(",\"event.duration\":")
            line.integer(Int(nanoseconds))
            line.raw(",\"request.id\":")
            line.quoted(context.requestID)
            if let address = context.remoteAddress {
                line.raw(",\"client.ip\":")
                line.quoted(address)
            }
            if let tenant = context.tenant {
                line.raw(",\"tenant.id\":")
                line.quoted(tenant.description)
            }
            if let principal = context.principal {
                line.raw(",\"user.id\":")
                line.quoted(principal.subject)
            }
            if let agent = request.headers[.userAgent] {
                line.raw(",\"user_agent.original\":")
                line.quoted(agent)
            }
            line.raw("}")
        }
    }
}

extension HTTPField.Name {
    static let traceparent = HTTPField.Name("traceparent")!
}
