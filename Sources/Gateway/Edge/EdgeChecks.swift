import Foundation
import HTTPTypes
import Kernel
import Platform

/// The gateway's checks for one request, written once, in the one order every path runs them: the ordinary path
/// (`EdgeGateway.process`, async, inside Hummingbird), the fast path (`fastPathDecision`, on the event loop, from
/// memory only) and upgrades (`upgradeDecision`).
///
/// The checks decide what needs nothing but the request and the gateway's memory (a blocked address or API key,
/// the route's auth policy, which rate-limit counters a request touches). Where a check needs work only its path
/// can do (read and inspect a body, verify credentials, look up a tenant's plan, count in the limiter, answer a
/// CORS preflight), `next()` stops and hands that step to the path; the path does it its own way (awaiting it, or
/// from a cache, or by leaving the request to the ordinary path) and asks for the next step. A path never
/// reorders, skips or adds a check: it only runs what `next()` hands it.
package struct EdgeChecks {
    /// The checks, in order (the order of the cases).
    package enum Check: Int, CaseIterable, Sendable {
        case blockedAddress, cors, bodyLimit, inspection, credentials, blockedAPIKey, authorization, rateLimits
    }

    /// What the request is: an ordinary request, or a protocol upgrade (no body limit; the origin is checked
    /// even without a CORS policy).
    package enum Kind: Sendable { case request, upgrade }

    /// What the path running the checks does next.
    package enum Step {
        /// Refuse with this problem; `blocked` is the reason counted in the gateway's `blocked` metric.
        case refuse(Problem, blocked: String?)
        /// The route's CORS policy: the ordinary path answers a preflight, an upgrade's origin must be allowed.
        case cors(CORSPolicy?)
        /// Hold the body to this many bytes.
        case limitBody(Int)
        /// Run the route's inspection rules.
        case inspect
        /// Verify the request's credentials, then report them with `authenticated(principal:tenant:)`.
        case authenticate
        /// Look up the tenant's plan (it picks plan-specific limits), then report it with `planned(_:)`.
        case lookUpPlan(TenantID)
        /// Count these rate limits (`EdgeGateway.decideLimits` turns the counts into headers or a 429).
        case countLimits([RateLimitCheck])
        /// Every check passed.
        case passed
    }

    let edge: EdgeGateway
    let route: Route
    let table: RouteTable
    let kind: Kind
    let address: String?
    /// The normalised path (the default quotas apply under `/api/`).
    let path: Substring
    let now: Date
    private var position = 0
    package private(set) var principal: Principal?
    package private(set) var tenant: TenantID?
    private var plan: String?
    private var planKnown = false

    package init(
        edge: EdgeGateway, route: Route, table: RouteTable, kind: Kind, address: String?, path: Substring,
        now: Date = Date()
    ) {
        self.edge = edge
        self.route = route
        self.table = table
        self.kind = kind
        self.address = address
        self.path = path
        self.now = now
    }

    /// The next step, or `.passed` once every check has.
    package mutating func next() -> Step {
        while let check = Check(rawValue: position) {
            position += 1
            switch check {
            case .blockedAddress:
                if edge.blocks.blocks(address: address, now: now) {
                    return .refuse(
                        Problem(status: .forbidden, detail: "requests from this address are blocked"), blocked: "ip")
                }
            case .cors:
                if kind == .upgrade || route.cors != nil { return .cors(route.cors) }
            case .bodyLimit:
                if kind == .request { return .limitBody(route.maxBodyBytes ?? edge.defaultMaxBodyBytes) }
            case .inspection:
                if route.inspection != .off { return .inspect }
            case .credentials:
                return .authenticate
            case .blockedAPIKey:
                if let principal, principal.kind == .apiKey, edge.blocks.blocks(apiKey: principal.subject, now: now) {
                    return .refuse(Problem(status: .forbidden, detail: "this API key is blocked"), blocked: "api_key")
                }
            case .authorization:
                if let problem = EdgeGateway.refusal(route.auth, principal: principal) {
                    return .refuse(problem, blocked: nil)
                }
            case .rateLimits:
                let quotas = route.defaultLimits && path.hasPrefix("/api/") ? table.defaultLimits : []
                guard !route.limits.isEmpty || !quotas.isEmpty else { continue }
                if let tenant, !planKnown {
                    position -= 1
                    planKnown = true
                    return .lookUpPlan(tenant)
                }
                let checks =
                    EdgeGateway.limitChecks(
                        rules: route.limits, scope: route.name, principal: principal, tenant: tenant,
                        address: address, plan: plan)
                    + EdgeGateway.limitChecks(
                        rules: quotas, scope: "default", principal: principal, tenant: tenant, address: address,
                        plan: plan)
                if !checks.isEmpty { return .countLimits(checks) }
            }
        }
        return .passed
    }

    /// What `.authenticate` found (nil: an anonymous request).
    package mutating func authenticated(principal: Principal?, tenant: TenantID?) {
        self.principal = principal
        self.tenant = tenant
    }

    /// What `.lookUpPlan` found (nil: no plan, or it could not be read: the default limits stay in force).
    package mutating func planned(_ plan: String?) {
        self.plan = plan
    }
}
