import HTTPTypes
import Hummingbird

/// The access log: one ECS-shaped JSON line per request, built straight into the log sink's buffer.
enum AccessLog {
    /// Writes one ECS-shaped JSON line per request straight into the sink's buffer.
    static func write(
        to sink: LogSink, request: Request, response: Response, context: AppRequestContext, route: String,
        duration: Duration
    ) {
        let nanoseconds = duration.nanoseconds
        sink.record { line in
            line.raw("{\"@timestamp\":")
            line.timestamp()
            line.raw(
                ",\"log.level\":\"info\",\"message\":\"request\",\"event.dataset\":\"http.access\",\"http.request.method\":"
            )
            line.quoted(request.method.rawValue)
            line.raw(",\"url.path\":")
            line.quoted(request.uri.path)
            line.raw(",\"http.route\":")
            line.quoted(route)
            line.raw(",\"http.response.status_code\":")
            line.integer(Int(response.status.code))
            if let bytes = response.body.contentLength ?? response.headers[.contentLength].flatMap({ Int($0) }) {
                line.raw(",\"http.response.body.bytes\":")
                line.integer(bytes)
            }
            line.raw(",\"event.duration\":")
            line.integer(Int(nanoseconds))
            if let gateway = context.gateway {
                line.raw(",\"gateway.route\":")
                line.quoted(gateway.route)
                if let upstream = gateway.upstream {
                    line.raw(",\"gateway.upstream\":")
                    line.quoted(upstream)
                }
                if let target = gateway.upstreamTarget {
                    line.raw(",\"gateway.upstream.address\":")
                    line.quoted(target)
                }
                if let upstreamDuration = gateway.upstreamDuration {
                    line.raw(",\"gateway.upstream.duration\":")
                    line.integer(Int(upstreamDuration.nanoseconds))
                }
            }
            line.raw(",\"request.id\":")
            line.quoted(context.requestID)
            if let trace = context.trace {
                line.raw(",\"trace.id\":")
                line.quoted(trace.traceID)
            }
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
