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
    /// The fast path's decision for `head`, made with the same checks as `process` in the same order, each of
    /// them answered from memory. Whenever one cannot be (credentials not yet in the verified-token cache, a
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
            route.cors == nil, route.transform?.removeResponseFields.isEmpty ?? true
        else { return .ordinary }
        var hasBody = false
        // What `UpstreamProxy.hasBody` says (a body-carrying method without a length counts), so that the same
        // requests are retried on either path.
        let ordinaryHasBody =
            headers.first(name: "content-length").map { $0 != "0" } ?? [.post, .put, .patch].contains(method)
        if let length = headers.first(name: "content-length") {
            guard let bytes = Int(length), bytes >= 0, bytes <= route.maxBodyBytes ?? defaultMaxBodyBytes else {
                return .ordinary
            }
            hasBody = bytes > 0
        }
        let now = Date()
        if blocks.blocks(address: clientIP, now: now) { return .ordinary }
        if route.inspection != .off {
            // Without a body the rules read only the head: checked here, on the head as the router would see it.
            // Any match (to block or to log) is left to the ordinary path, which acts on it.
            guard !hasBody, var request = try? HTTPRequest(head, secure: tls, splitCookie: false) else {
                return .ordinary
            }
            request.path = query.map { path + $0 } ?? path
            if !snapshot.table.inspection.inspect(InspectionInput(head: request)).matches.isEmpty { return .ordinary }
        }

        var authentication: Authentication?
        if let authorization = headers.first(name: "authorization") {
            guard let cached = authenticator.cachedAuthentication(authorization: authorization, table: snapshot.table)
            else { return .ordinary }
            authentication = cached
        }
        let principal = authentication?.principal
        if let principal, principal.kind == .apiKey, blocks.blocks(apiKey: principal.subject, now: now) {
            return .ordinary
        }
        do { try Self.enforce(route.auth, principal: principal) } catch { return .ordinary }

        let clientRequestID = headers.first(name: "x-request-id").flatMap(PlatformMiddleware.acceptableRequestID)
        let requestID = clientRequestID ?? RequestIDs.next()
        let trace =
            headers.first(name: "traceparent").flatMap(TraceContext.init(traceparent:))
            ?? TraceContext.makeNew(requestID: requestID)
        let identity = FastPathPlan.Identity(
            route: route.name, method: method, path: path, requestID: requestID, trace: trace, clientIP: clientIP,
            tenant: authentication?.tenant, subject: principal?.subject, userAgent: headers.first(name: "user-agent"),
            closeAfter: headers.first(name: "connection").map { FastPathHeaders.containsIgnoringCase($0, "close") }
                ?? false)

        var limitHeaders = HTTPFields()
        var pendingLimits: [RateLimitCheck] = []
        let quotas = route.defaultLimits && path.hasPrefix("/api/") ? snapshot.table.defaultLimits : []
        if !route.limits.isEmpty || !quotas.isEmpty {
            var plan: String?
            if let tenant = authentication?.tenant {
                guard let cached = tenants.cachedTenant(tenant) else { return .ordinary }
                plan = cached?.plan
            }
            let checks =
                Self.limitChecks(
                    rules: route.limits, scope: route.name, principal: principal, tenant: authentication?.tenant,
                    address: clientIP, plan: plan)
                + Self.limitChecks(
                    rules: quotas, scope: "default", principal: principal, tenant: authentication?.tenant,
                    address: clientIP, plan: plan)
            if let localLimiter {
                do {
                    limitHeaders = try decideLimits(
                        route: route, checks: checks, decisions: localLimiter.checkNow(checks))
                } catch let problem as Problem {
                    return .answer(problem, identity)
                } catch {
                    return .ordinary
                }
            } else {
                pendingLimits = checks
            }
        }

        var forwarded = UpstreamProxy.forwardedHeaders(
            headers, clientIP: clientIP, requestID: requestID, trace: trace.child(), tls: tls)
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
