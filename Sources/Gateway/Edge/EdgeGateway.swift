import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Logging
import NIOCore
import Platform
import Synchronization

/// The gateway in front of the router. In order: match the route table; run the edge checks (`EdgeChecks`, the
/// one list every path runs: blocked addresses, CORS preflights, the body limit, inspection, credentials, blocked
/// API keys, the auth policy, rate limits); apply the route's request transforms; call the module in this process
/// (the router, no socket) or proxy to the remote upstream; then transform the response and add CORS, rate-limit
/// and latency headers.
///
/// A class, not a struct: every request reads several of its fields, and a struct of this many references is
/// retained field by field each time it is copied.
package final class EdgeGateway: EdgeHandler {
    let routes: RouteTableStore
    let authenticator: EdgeAuthenticator
    let limiter: any RateLimiter
    let proxy: UpstreamProxy
    /// Tenants' plans pick plan-specific limits (a failed read leaves the default limits in force).
    let tenants: TenantStatusCache
    let blocks: BlockList
    let metrics: GatewayMetrics
    let defaultMaxBodyBytes: Int
    let tls: Bool
    /// `gateway_fast_path`: whether requests are proxied on the event loop when they can be (upgrades always are).
    let fastPathEnabled: Bool
    let logger: Logger

    init(
        routes: RouteTableStore, authenticator: EdgeAuthenticator, limiter: any RateLimiter, proxy: UpstreamProxy,
        tenants: TenantStatusCache, blocks: BlockList, metrics: GatewayMetrics, defaultMaxBodyBytes: Int, tls: Bool,
        fastPathEnabled: Bool, logger: Logger
    ) {
        self.routes = routes
        self.authenticator = authenticator
        self.limiter = limiter
        self.proxy = proxy
        self.tenants = tenants
        self.blocks = blocks
        self.metrics = metrics
        self.defaultMaxBodyBytes = defaultMaxBodyBytes
        self.tls = tls
        self.fastPathEnabled = fastPathEnabled
        self.logger = logger
    }

    /// The router's responder, for requests rewritten to another path of this process.
    let router = RouterSlot()
    /// The largest JSON body the inspection reads; a larger JSON body on an inspected route is refused.
    static let inspectedBodyLimit = 2 * 1_048_576

    package func routerReady(_ responder: RouterResponder<AppRequestContext>, observers: EdgeObservers) {
        router.responder.withLock { $0 = responder }
        router.fastPath.withLock { $0 = FastPath(edge: self, observers: observers) }
    }

    /// The fast path for a new HTTP/1 connection (see `FastPathConnectionHandler`).
    package func makeConnectionHandler() -> (any EdgeConnectionHandling)? {
        router.fastPath.withLock { $0 }.map { FastPathConnectionHandler(fast: $0) }
    }

    package func handle(
        _ request: Request, context: inout AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let snapshot = routes.snapshot
        guard let path = RequestPath.normalize(Substring(request.uri.path)) else {
            throw Problem(status: .badRequest, detail: "the path has dot segments or encoded separators")
        }
        guard
            let (route, parameters) = snapshot.table.match(
                host: request.head.authority.map { Substring($0) }, path: Substring(path), method: request.method)
        else { throw Problem.notFound(detail: "no route serves this path") }
        // From here on the request carries the normal form of its path (forwarded as such upstream).
        var request = request
        if path != request.uri.path {
            var head = request.head
            head.path = request.uri.query.map { "\(path)?\($0)" } ?? path
            request = Request(head: head, body: request.body)
        }
        var record = GatewayRecord(route: route.name)
        defer { context.gateway = record }
        do {
            let response = try await process(
                request, route: route, parameters: parameters, snapshot: snapshot, start: start, record: &record,
                context: &context, next: next)
            metrics.request(
                route: route.name, upstream: record.upstream ?? "local", status: Int(response.status.code),
                upstreamDuration: record.upstreamDuration)
            return response
        } catch {
            let status = (error as? Problem).map { Int($0.status.code) } ?? 500
            metrics.request(
                route: route.name, upstream: record.upstream ?? "local", status: status,
                upstreamDuration: record.upstreamDuration)
            // Browsers show a cross-origin caller the refusal (401, 429 ...) only with the CORS headers on it.
            if var problem = error as? Problem, let cors = route.cors, request.method != .options {
                for field in cors.responseHeaders(origin: request.headers[.origin]) { problem.headers.append(field) }
                throw problem
            }
            throw error
        }
    }

    /// Everything after the route match (see the type's documentation for the order).
    func process(
        _ request: Request, route: Route, parameters: [String: String], snapshot: RouteTableStore.Snapshot,
        start: ContinuousClock.Instant, record: inout GatewayRecord, context: inout AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var request = request
        var limitHeaders = HTTPFields()
        var checks = EdgeChecks(
            edge: self, route: route, table: snapshot.table, kind: .request, address: context.remoteAddress,
            path: Substring(request.uri.path))
        checking: while true {
            let step = checks.next()
            switch step {
            case .cors(let cors):
                guard let cors, case let preflight = cors.preflight(for: request.head), preflight != .notPreflight
                else { continue }
                if case .rejected(let reason, let headers) = preflight {
                    throw Problem(status: .forbidden, detail: reason.description, headers: headers)
                }
                return Response(status: preflight.status ?? .noContent, headers: preflight.headers)
            case .limitBody(let limit):
                try BodyLimit.apply(to: &request, limit: limit)
            case .inspect:
                request = try await inspect(request, route: route, table: snapshot.table, context: context)
            case .refuse, .authenticate, .lookUpPlan, .countLimits:
                if let headers = try await commonStep(step, &checks, request, &context, table: snapshot.table) {
                    limitHeaders = headers
                }
            case .passed:
                break checking
            }
        }

        var rewritten = false
        if let transform = route.transform {
            var head = request.head
            transform.requestHeaders.apply(to: &head.headerFields)
            // Fields can only be removed from an answer the gateway can read: no compressed answers on such routes.
            if !transform.removeResponseFields.isEmpty { head.headerFields[.acceptEncoding] = nil }
            if transform.rewritePath != nil || transform.stripPrefix != nil {
                let path = transform.rewrite(path: Substring(request.uri.path), parameters: parameters)
                head.path = request.uri.query.map { "\(path)?\($0)" } ?? path
                rewritten = true
            }
            request = Request(head: head, body: request.body)
        }

        var response: Response
        var upstreamTime: Duration = .zero
        switch route.target {
        case .module:
            let dispatched = ContinuousClock.now
            if rewritten, let responder = router.responder.withLock({ $0 }) {
                // The router resolved the original path; the new one is resolved again.
                var inner = context
                record.redispatched = true
                inner.gateway = record
                response = try await responder.respond(to: request, context: inner)
                record.redispatched = false
            } else {
                response = try await next(request, context)
            }
            upstreamTime = ContinuousClock.now - dispatched
        case .upstream(let name):
            guard let pool = snapshot.pools[name] else {
                throw Problem(status: .badGateway, detail: "\(name) is not configured")
            }
            record.upstream = name
            let path = request.head.path ?? request.uri.path
            response = try await proxy.forward(
                request, path: path, pool: pool, context: context, record: &record, tls: tls)
            upstreamTime = record.upstreamDuration ?? .zero
        }

        if let transform = route.transform {
            transform.responseHeaders.apply(to: &response.headers)
            if !transform.removeResponseFields.isEmpty { response = try await Self.removeFields(response, transform) }
        }
        if let cors = route.cors {
            // The route's policy decides, not whatever the upstream says.
            for name in response.headers.map(\.name) where name.canonicalName.hasPrefix("access-control-") {
                response.headers[name] = nil
            }
            for field in cors.responseHeaders(origin: request.headers[.origin]) { response.headers.append(field) }
        }
        for field in limitHeaders { response.headers.append(field) }
        response.headers[.gatewayLatency] = Self.milliseconds((ContinuousClock.now - start) - upstreamTime)
        return response
    }

    /// The steps of `EdgeChecks` that the awaiting paths (ordinary requests and upgrades) take the same way:
    /// refuse (counted in the metrics), verify the credentials, read the tenant's plan, count in the limiter.
    /// Returns the rate-limit headers after `.countLimits` (or throws its 429), nil after the others.
    func commonStep(
        _ step: EdgeChecks.Step, _ checks: inout EdgeChecks, _ request: Request, _ context: inout AppRequestContext,
        table: RouteTable
    ) async throws -> HTTPFields? {
        switch step {
        case .refuse(let problem, let blocked):
            if let blocked { metrics.blocked(reason: blocked) }
            throw problem
        case .authenticate:
            if let authentication = try await authenticator.authenticate(request, context: context, table: table) {
                context.tenant = authentication.tenant
                context.principal = authentication.principal
            }
            checks.authenticated(principal: context.principal, tenant: context.tenant)
        case .lookUpPlan(let tenant):
            checks.planned((try? await tenants.tenant(tenant))?.plan)
        case .countLimits(let limits):
            return try decideLimits(route: checks.route, checks: limits, decisions: await limiter.check(limits))
        default:
            break
        }
        return nil
    }

    /// Runs the inspection rules over the request and its body when the body is data a module reads (JSON, a
    /// form, text, or no declared type: read into memory up to 2 MiB); binary and multipart uploads are not
    /// inspected. A blocking match answers 403, a logging one is written to the log. Returns the request with its
    /// body still readable.
    func inspect(_ request: Request, route: Route, table: RouteTable, context: AppRequestContext) async throws
        -> Request
    {
        var request = request
        var body: JSONValue?
        let type = request.headers[.contentType]?.lowercased()
        let readable =
            type == nil || type!.contains("json") || type!.hasPrefix("application/x-www-form-urlencoded")
            || type!.hasPrefix("text/")
        if readable, UpstreamProxy.hasBody(request.headers, method: request.method) {
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(
                    upTo: min(Self.inspectedBodyLimit, route.maxBodyBytes ?? defaultMaxBodyBytes))
            } catch {
                throw Problem(status: .contentTooLarge, detail: "the body exceeds the limit this route inspects")
            }
            body = Self.inspectable(Data(buffer: buffer), type: type)
        }
        let verdict = table.inspection.inspect(InspectionInput(head: request.head, body: body))
        guard !verdict.matches.isEmpty else { return request }
        let blocking = route.inspection == .block && verdict.blocks
        for match in verdict.matches { metrics.inspection(rule: match.ruleID, action: blocking ? "block" : "log") }
        logger.warning(
            blocking ? "request blocked by inspection rules" : "request matched inspection rules",
            metadata: [
                "gateway.route": "\(route.name)", "rule.id": "\(verdict.ruleIDs.joined(separator: ","))",
                "client.ip": "\(context.remoteAddress ?? "-")", "request.id": "\(context.requestID)",
            ])
        if blocking {
            metrics.blocked(reason: "inspection")
            throw Problem(status: .forbidden, detail: "the request was refused by the gateway's inspection rules")
        }
        return request
    }

    /// The body as the inspection rules see it: JSON as it is, a form as an object of its fields, anything else
    /// (or JSON that does not parse) as one string.
    static func inspectable(_ data: Data, type: String?) -> JSONValue? {
        guard !data.isEmpty else { return nil }
        if type == nil || type!.contains("json"), let json = try? JSONDecoder().decode(JSONValue.self, from: data) {
            return json
        }
        let text = String(decoding: data, as: UTF8.self)
        if type?.hasPrefix("application/x-www-form-urlencoded") == true, let fields = try? FormBody.parse(text) {
            return .object(fields.mapValues { .string($0) })
        }
        return .string(text)
    }

    /// The `RateLimit` headers for the limiter's decisions, or the 429 problem when one refused.
    func decideLimits(route: Route, checks: [RateLimitCheck], decisions: [RateLimitDecision]) throws -> HTTPFields {
        guard !checks.isEmpty else { return [:] }
        for (check, decision) in zip(checks, decisions) {
            metrics.rateLimit(route: route.name, policy: check.policy, allowed: decision.allowed)
        }
        let headers = Self.rateLimitHeaders(checks: checks, decisions: decisions)
        let refused = zip(checks, decisions).filter { !$0.1.allowed }.max { $0.1.retryAfter < $1.1.retryAfter }
        guard let (check, decision) = refused else { return headers }
        var problemHeaders = headers
        let seconds: Double = decision.retryAfter.rounded(.up)
        problemHeaders[.retryAfter] = String(max(1, Int(seconds)))
        throw Problem(
            status: .tooManyRequests,
            detail:
                "the limit of \(check.limit) requests per \(Self.describe(period: check.period)) for this \(check.policy) is used up",
            headers: problemHeaders)
    }
}

/// Where the router's responder is kept once the router is built.
final class RouterSlot: Sendable {
    let responder = Mutex<RouterResponder<AppRequestContext>?>(nil)
    /// Made with the router (it needs the platform's metrics and access log).
    let fastPath = Mutex<FastPath?>(nil)
}

extension HTTPField.Name {
    static let gatewayLatency = HTTPField.Name("X-Inopsio-Gateway-Latency")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let rateLimit = HTTPField.Name("RateLimit")!
}
