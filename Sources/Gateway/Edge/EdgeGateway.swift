import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Logging
import Platform
import Synchronization

/// The gateway in front of the router: matches the route table, enforces the block list, inspection, edge
/// authentication and rate limits, applies the route's transformations, then calls the module in this process
/// (the router, no socket) or proxies to the remote upstream.
package struct EdgeGateway: EdgeHandler {
    let routes: RouteTableStore
    let authenticator: EdgeAuthenticator
    let limiter: any RateLimiter
    let proxy: UpstreamProxy
    let plans: TenantPlanCache
    let defaultMaxBodyBytes: Int
    let tls: Bool
    let logger: Logger
    /// The router's responder, for requests rewritten to another path of this process.
    let router = RouterSlot()

    package func routerReady(_ responder: RouterResponder<AppRequestContext>) {
        router.responder.withLock { $0 = responder }
    }

    package func handle(
        _ request: Request, context: inout AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let snapshot = routes.snapshot
        guard
            let (route, parameters) = snapshot.table.match(
                host: request.head.authority.map { Substring($0) }, path: Substring(request.uri.path),
                method: request.method)
        else { throw Problem.notFound(detail: "no route serves this path") }
        var record = GatewayRecord(route: route.name)
        defer { context.gateway = record }
        var request = request
        var rewritten = false
        try BodyLimit.apply(to: &request, limit: route.maxBodyBytes ?? defaultMaxBodyBytes)

        if let authentication = try await authenticator.authenticate(request, context: context, table: snapshot.table) {
            context.tenant = authentication.tenant
            context.principal = authentication.principal
        }
        try Self.enforce(route.auth, principal: context.principal)

        var limitHeaders = HTTPFields()
        if !route.limits.isEmpty {
            let plan = await context.tenant.asyncMap { await plans.plan(of: $0) } ?? nil
            let checks = Self.limitChecks(route: route, context: context, plan: plan)
            let decisions = await limiter.check(checks)
            limitHeaders = Self.rateLimitHeaders(checks: checks, decisions: decisions)
            if let refused = zip(checks, decisions).filter({ !$0.1.allowed }).max(by: {
                $0.1.retryAfter < $1.1.retryAfter
            }) {
                var headers = limitHeaders
                let seconds: Double = refused.1.retryAfter.rounded(.up)
                headers[.retryAfter] = String(max(1, Int(seconds)))
                throw Problem(
                    status: .tooManyRequests,
                    detail:
                        "the limit of \(refused.0.limit) requests per \(Self.describe(period: refused.0.period)) for this \(refused.0.policy) is used up",
                    headers: headers)
            }
        }

        if let transform = route.transform {
            var head = request.head
            transform.requestHeaders.apply(to: &head.headerFields)
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
            if !transform.removeResponseFields.isEmpty { response = await Self.removeFields(response, transform) }
        }
        for field in limitHeaders { response.headers.append(field) }
        let gatewayTime = (ContinuousClock.now - start) - upstreamTime
        response.headers[.gatewayLatency] = Self.milliseconds(gatewayTime)
        return response
    }

    /// 401 without a principal where one is needed, 403 without a required permission.
    static func enforce(_ policy: Route.AuthPolicy, principal: Principal?) throws {
        switch policy {
        case .public:
            return
        case .authenticated:
            guard principal != nil else { throw Problem.unauthorized() }
        case .permissions(let required):
            guard let principal else { throw Problem.unauthorized() }
            let missing = required.subtracting(principal.permissions)
            guard missing.isEmpty else {
                throw Problem(
                    status: .forbidden,
                    detail:
                        "this route needs the \(missing.map(\.description).sorted().joined(separator: ", ")) permission"
                )
            }
        }
    }

    /// The counters a request touches: one per rule whose key the request has (an API-key rule does not apply to
    /// a user's token, a user rule not to an anonymous caller).
    static func limitChecks(route: Route, context: AppRequestContext, plan: String?) -> [RateLimitCheck] {
        route.limits.compactMap { rule in
            let value: String?
            switch rule.key {
            case .apiKey: value = context.principal.flatMap { $0.kind == .apiKey ? $0.subject : nil }
            case .user: value = context.principal.flatMap { $0.kind == .user ? $0.subject : nil }
            case .tenant: value = context.tenant?.description
            case .ip: value = context.remoteAddress
            }
            guard let value else { return nil }
            return RateLimitCheck(
                key: "\(route.name):\(rule.key.rawValue):\(Int(rule.period)):\(value)",
                limit: rule.limit(forPlan: plan),
                period: rule.period, policy: rule.key.rawValue)
        }
    }

    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10): every policy, and the state
    /// of each.
    static func rateLimitHeaders(checks: [RateLimitCheck], decisions: [RateLimitDecision]) -> HTTPFields {
        guard !checks.isEmpty else { return [:] }
        let policies = checks.map { "\"\($0.policy)\";q=\($0.limit);w=\(Int($0.period))" }
        let states = zip(checks, decisions).map { check, decision in
            let reset: Double = decision.reset.rounded(.up)
            return "\"\(check.policy)\";r=\(decision.remaining);t=\(max(0, Int(reset)))"
        }
        return [.rateLimitPolicy: policies.joined(separator: ", "), .rateLimit: states.joined(separator: ", ")]
    }

    static func describe(period: Double) -> String {
        switch period {
        case 60: "minute"
        case 3_600: "hour"
        case 86_400: "day"
        default: "\(Int(period)) seconds"
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = max(
            0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        return String(format: "%.3f", Double(microseconds) / 1_000)
    }

    /// Buffers a JSON answer (up to 8 MiB) to remove the route's fields; others stream through unchanged.
    static func removeFields(_ response: Response, _ transform: RouteTransform) async -> Response {
        guard response.headers[.contentType]?.contains("json") == true,
            (response.body.contentLength ?? 0) <= 8 * 1_048_576
        else { return response }
        var response = response
        let collector = BufferCollector()
        do { try await response.body.write(collector.writer) } catch { return response }
        let edited = transform.removeFields(from: Data(buffer: collector.buffer))
        response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: edited))
        response.headers[.contentLength] = nil
        return response
    }
}

/// Where the router's responder is kept once the router is built.
final class RouterSlot: Sendable {
    let responder = Mutex<RouterResponder<AppRequestContext>?>(nil)
}

extension HTTPField.Name {
    static let gatewayLatency = HTTPField.Name("X-Inopsio-Gateway-Latency")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let rateLimit = HTTPField.Name("RateLimit")!
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async -> T) async -> T? {
        guard let value = self else { return nil }
        return await transform(value)
    }
}
