import Foundation
import HTTPTypes
import Kernel
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Platform

/// What the fast path does with a request head: leave it to the ordinary (router) path, proxy it, or answer it.
enum FastPathDecision {
    /// Some check cannot be decided on the event loop (a database read, Redis, a body to inspect ...) or the
    /// request needs something only the ordinary path does (CORS, JSON field removal, an HTML error page).
    case ordinary
    case proxy(FastPathPlan)
    /// A refusal decided here (429 from a local limit), answered as the ordinary path would.
    case answer(Problem, FastPathPlan.Identity)
}

/// A request the fast path proxies: everything decided before the first byte goes upstream. (A class: the
/// exchange reads it many times, and a struct this size would be copied, with a retain per field, each time.)
final class FastPathPlan {
    /// The request's identity for answers, logs and metrics.
    final class Identity {
        let route: String
        let method: HTTPRequest.Method
        let path: String
        let requestID: String
        let trace: TraceContext
        let clientIP: String?
        let tenant: TenantID?
        let subject: String?
        let userAgent: String?
        /// The client asked for the connection to close after this response.
        let closeAfter: Bool

        init(
            route: String, method: HTTPRequest.Method, path: String, requestID: String, trace: TraceContext,
            clientIP: String?, tenant: TenantID?, subject: String?, userAgent: String?, closeAfter: Bool
        ) {
            self.route = route
            self.method = method
            self.path = path
            self.requestID = requestID
            self.trace = trace
            self.clientIP = clientIP
            self.tenant = tenant
            self.subject = subject
            self.userAgent = userAgent
            self.closeAfter = closeAfter
        }
    }

    let identity: Identity
    let route: Route
    let pool: UpstreamPool
    let upstream: String
    let method: NIOHTTP1.HTTPMethod
    /// Path and query as the upstream gets them (without the target's base path).
    let upstreamURI: String
    let headers: HTTPHeaders
    let hasBody: Bool
    /// Idempotent and without a body: may be tried again on another target.
    let retriable: Bool
    var limitHeaders: HTTPFields
    /// Limits counted by a shared (Redis) limiter: asked before the request goes upstream, the request's parts
    /// waiting meanwhile.
    var pendingLimits: [RateLimitCheck] = []
    let started: ContinuousClock.Instant

    init(
        identity: Identity, route: Route, pool: UpstreamPool, upstream: String, method: NIOHTTP1.HTTPMethod,
        upstreamURI: String, headers: HTTPHeaders, hasBody: Bool, retriable: Bool, limitHeaders: HTTPFields,
        started: ContinuousClock.Instant
    ) {
        self.identity = identity
        self.route = route
        self.pool = pool
        self.upstream = upstream
        self.method = method
        self.upstreamURI = upstreamURI
        self.headers = headers
        self.hasBody = hasBody
        self.retriable = retriable
        self.limitHeaders = limitHeaders
        self.started = started
    }
}

extension EdgeGateway {
    /// The fast path's decision for `head`, made by the same checks as `process` (`EdgeChecks`), each of them
    /// answered from memory. Whenever one cannot be (credentials not yet in the verified-token cache, a
    /// tenant's plan not cached, the Redis limiter, inspection or CORS on the route, a body without a length,
    /// an upgrade, HTTP/1.0, an `https://` target ...) the request takes the ordinary path, which decides it.
    func fastPathDecision(
        _ head: HTTPRequestHead, clientIP: String?, localLimiter: SlidingWindowLimiter?
    ) -> FastPathDecision {
        let started = ContinuousClock.now
        let headers = head.headers
        guard head.version == .http1_1, !headers.contains(name: "upgrade"),
            !headers.contains(name: "transfer-encoding"), !headers.contains(name: "expect"),
            !headers.contains(name: "cookie")
        else { return .ordinary }
        // Browsers get the ordinary path's HTML error pages.
        if let accept = headers.first(name: "accept"), FastPathHeaders.containsIgnoringCase(accept, "text/html") {
            return .ordinary
        }
        let uri = head.uri
        let rawPath: Substring
        var query: Substring?
        if let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) {
            rawPath = uri[..<mark]
            query = uri[mark...]
        } else {
            rawPath = Substring(uri)
        }
        guard let path = RequestPath.normalize(rawPath), let method = HTTPRequest.Method(head.method.rawValue)
        else { return .ordinary }
        let snapshot = routes.snapshot
        guard
            let (route, parameters) = snapshot.table.match(
                host: headers.first(name: "host").map { Substring($0) }, path: Substring(path), method: method),
            case .upstream(let name) = route.target, let pool = snapshot.pools[name],
            !pool.settings.targets.contains(where: { $0.scheme != "http" }),
            route.transform?.removeResponseFields.isEmpty ?? true
        else { return .ordinary }
        let length = headers.first(name: "content-length")
        let bytes = length.map { Int($0) ?? -1 } ?? 0
        guard bytes >= 0 else { return .ordinary }
        let hasBody = bytes > 0
        // What `UpstreamProxy.hasBody` says (a body-carrying method without a length counts), so that the same
        // requests are retried on either path.
        let ordinaryHasBody = length.map { $0 != "0" } ?? [.post, .put, .patch].contains(method)
        // Made once the request is the fast path's to answer (one left to the ordinary path gets its id there).
        func makeIdentity(_ checks: EdgeChecks) -> FastPathPlan.Identity {
            let clientRequestID = headers.first(name: "x-request-id").flatMap(PlatformMiddleware.acceptableRequestID)
            let requestID = clientRequestID ?? RequestIDs.next()
            let trace =
                headers.first(name: "traceparent").flatMap(TraceContext.init(traceparent:))
                ?? TraceContext.makeNew(requestID: requestID)
            return FastPathPlan.Identity(
                route: route.name, method: method, path: path, requestID: requestID, trace: trace,
                clientIP: clientIP, tenant: checks.tenant, subject: checks.principal?.subject,
                userAgent: headers.first(name: "user-agent"),
                closeAfter: headers.first(name: "connection").map { FastPathHeaders.containsIgnoringCase($0, "close") }
                    ?? false)
        }

        // The edge checks, each answered from memory; a refusal (but a local limit's 429) and anything that
        // needs more is left to the ordinary path, which decides it and answers it with its own headers.
        var limitHeaders = HTTPFields()
        var pendingLimits: [RateLimitCheck] = []
        var checks = EdgeChecks(
            edge: self, route: route, table: snapshot.table, kind: .request, address: clientIP, path: Substring(path))
        checking: while true {
            switch checks.next() {
            case .refuse, .cors:
                return .ordinary
            case .limitBody(let limit):
                if bytes > limit { return .ordinary }
            case .inspect:
                // Without a body the rules read only the head: checked here, on the head as the router would see
                // it. Any match (to block or to log) is left to the ordinary path, which acts on it.
                guard !hasBody, var request = try? HTTPRequest(head, secure: tls, splitCookie: false) else {
                    return .ordinary
                }
                request.path = query.map { path + $0 } ?? path
                if !snapshot.table.inspection.inspect(InspectionInput(head: request)).matches.isEmpty {
                    return .ordinary
                }
            case .authenticate:
                guard let authorization = headers.first(name: "authorization") else { continue }
                guard
                    let cached = authenticator.cachedAuthentication(authorization: authorization, table: snapshot.table)
                else { return .ordinary }
                checks.authenticated(principal: cached.principal, tenant: cached.tenant)
            case .lookUpPlan(let tenant):
                guard let cached = tenants.cachedTenant(tenant) else { return .ordinary }
                checks.planned(cached?.plan)
            case .countLimits(let limits):
                guard let localLimiter else {
                    pendingLimits = limits
                    continue
                }
                do {
                    limitHeaders = try decideLimits(
                        route: route, checks: limits, decisions: localLimiter.checkNow(limits))
                } catch let problem as Problem {
                    return .answer(problem, makeIdentity(checks))
                } catch {
                    return .ordinary
                }
            case .passed:
                break checking
            }
        }

        let identity = makeIdentity(checks)
        var forwarded = UpstreamProxy.forwardedHeaders(
            headers, clientIP: clientIP, requestID: identity.requestID, trace: identity.trace.child(), tls: tls)
        var upstreamPath = path
        if let transform = route.transform {
            transform.requestHeaders.apply(to: &forwarded)
            if transform.rewritePath != nil || transform.stripPrefix != nil {
                upstreamPath = transform.rewrite(path: Substring(path), parameters: parameters)
            }
        }
        let plan = FastPathPlan(
            identity: identity, route: route, pool: pool, upstream: name, method: head.method,
            upstreamURI: query.map { upstreamPath + $0 } ?? upstreamPath, headers: forwarded, hasBody: hasBody,
            retriable: !ordinaryHasBody && UpstreamProxy.idempotent.contains(method), limitHeaders: limitHeaders,
            started: started)
        plan.pendingLimits = pendingLimits
        return .proxy(plan)
    }
}
