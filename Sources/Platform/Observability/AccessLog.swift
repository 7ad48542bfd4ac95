import HTTPTypes
import Hummingbird

/// The access log: one ECS-shaped JSON line per request, built straight into the log sink's buffer.
package enum AccessLog {
    /// Writes the line of a request the router answered.
    static func write(
        to sink: LogSink, request: Request, response: Response, context: AppRequestContext, route: String,
        duration: Duration
    ) {
        write(
            to: sink,
            entry: AccessLogEntry(
                method: request.method.rawValue, path: request.uri.path, route: route,
                status: Int(response.status.code),
                bytes: response.body.contentLength ?? response.headers[.contentLength].flatMap { Int($0) },
                duration: duration, gateway: context.gateway, requestID: context.requestID,
                traceID: context.trace?.traceID, clientIP: context.remoteAddress, tenant: context.tenant?.description,
                user: context.principal?.subject, userAgent: request.headers[.userAgent]))
    }

    /// Writes one ECS-shaped JSON line straight into the sink's buffer.
    package static func write(to sink: LogSink, entry: AccessLogEntry) {
        let nanoseconds = entry.duration.nanoseconds
        sink.record { line in
            line.raw("{\"@timestamp\":")
            line.timestamp()
            line.raw(
                ",\"log.level\":\"info\",\"message\":\"request\",\"event.dataset\":\"http.access\",\"http.request.method\":"
            )
            line.quoted(entry.method)
            line.raw(",\"url.path\":")
            line.quoted(entry.path)
            line.raw(",\"http.route\":")
            line.quoted(entry.route)
            line.raw(",\"http.response.status_code\":")
            line.integer(entry.status)
            if let bytes = entry.bytes {
                line.raw(",\"http.response.body.bytes\":")
                line.integer(bytes)
            }
            line.raw(",\"event.duration\":")
            line.integer(Int(nanoseconds))
            if let gateway = entry.gateway {
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
            line.quoted(entry.requestID)
            if let traceID = entry.traceID {
                line.raw(",\"trace.id\":")
                line.quoted(traceID)
            }
            if let address = entry.clientIP {
                line.raw(",\"client.ip\":")
                line.quoted(address)
            }
            if let tenant = entry.tenant {
                line.raw(",\"tenant.id\":")
                line.quoted(tenant)
            }
            if let user = entry.user {
                line.raw(",\"user.id\":")
                line.quoted(user)
            }
            if let agent = entry.userAgent {
                line.raw(",\"user_agent.original\":")
                line.quoted(agent)
            }
            line.raw("}")
        }
    }
}

/// The fields of one access log line.
package struct AccessLogEntry {
    let method: String
    let path: String
    let route: String
    let status: Int
    let bytes: Int?
    let duration: Duration
    let gateway: GatewayRecord?
    let requestID: String
    let traceID: String?
    let clientIP: String?
    let tenant: String?
    let user: String?
    let userAgent: String?

    package init(
        method: String, path: String, route: String, status: Int, bytes: Int?, duration: Duration,
        gateway: GatewayRecord?, requestID: String, traceID: String?, clientIP: String?, tenant: String?,
        user: String?, userAgent: String?
    ) {
        self.method = method
        self.path = path
        self.route = route
        self.status = status
        self.bytes = bytes
        self.duration = duration
        self.gateway = gateway
        self.requestID = requestID
        self.traceID = traceID
        self.clientIP = clientIP
        self.tenant = tenant
        self.user = user
        self.userAgent = userAgent
    }
}
