import Foundation

/// The gateway's declarative configuration, as written in the route file (JSON, snake_case keys). It is decoded,
/// then checked as a whole by `RouteTable.compile`, which reports every problem with its path in the file.
package struct GatewayConfiguration: Codable, Sendable {
    enum CodingKeys: String, CodingKey {
        case upstreams, routes
        case defaultRateLimits = "default_rate_limits"
        case externalIssuers = "external_issuers"
        case inspectionRules = "inspection_rules"
        case includeDefaultRoutes = "include_default_routes"
    }

    /// Remote services by name; routes target them with `"upstream": "name"`.
    package var upstreams: [String: UpstreamDefinition]
    /// Routes in match order: the first route whose host, path and method match takes the request.
    package var routes: [RouteDefinition]
    /// Issuers other than Inopsio whose JWTs the edge accepts (a Keycloak realm, say).
    package var externalIssuers: [ExternalIssuerDefinition]
    /// Quotas counted across all routes under `/api/` (per API key, user, tenant or IP), on top of each route's own
    /// limits; `nil` means the built-in defaults (1,000 requests/hour per API key, 10,000 on the enterprise plan;
    /// 100/minute per user), `[]` none.
    package var defaultRateLimits: [RateLimitDefinition]?
    /// Append the routes generated from the enabled modules after the file's own routes (default true).
    package var includeDefaultRoutes: Bool
    /// Inspection rules of the installation's own, checked beside the built-in ones.
    package var inspectionRules: [InspectionRule]

    /// No routes of its own: the modules' defaults only.
    package init() {
        upstreams = [:]
        routes = []
        externalIssuers = []
        defaultRateLimits = nil
        includeDefaultRoutes = true
        inspectionRules = []
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        upstreams = try container.decodeIfPresent([String: UpstreamDefinition].self, forKey: .upstreams) ?? [:]
        routes = try container.decodeIfPresent([RouteDefinition].self, forKey: .routes) ?? []
        externalIssuers =
            try container.decodeIfPresent([ExternalIssuerDefinition].self, forKey: .externalIssuers) ?? []
        defaultRateLimits = try container.decodeIfPresent([RateLimitDefinition].self, forKey: .defaultRateLimits)
        includeDefaultRoutes = try container.decodeIfPresent(Bool.self, forKey: .includeDefaultRoutes) ?? true
        inspectionRules = try container.decodeIfPresent([InspectionRule].self, forKey: .inspectionRules) ?? []
    }

    /// Decodes a route file; a syntax or type error names the place in the file.
    package static func decode(_ data: Data) throws(RouteTableError) -> GatewayConfiguration {
        let decoder = JSONDecoder()
        do {
            return try decoder.decode(GatewayConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw RouteTableError([RouteTableError.describe(error)])
        } catch {
            // A CORS policy or inspection rule that checks itself while decoding.
            throw RouteTableError(["\(error)"])
        }
    }
}

/// One route of the table.
package struct RouteDefinition: Codable, Sendable {
    enum CodingKeys: String, CodingKey {
        case name, match, module, upstream, auth, permissions, inspection, transform, cors
        case defaultRateLimits = "default_rate_limits"
        case rateLimits = "rate_limits"
        case maxBodyBytes = "max_body_bytes"
    }

    package var name: String
    package var match: RouteMatchDefinition
    /// Exactly one of `module` (a module of this process, called directly) and `upstream` (a remote service).
    package var module: String?
    package var upstream: String?
    /// `public` (credentials are verified when present), `authenticated`, or implied by `permissions`.
    package var auth: String?
    /// Permissions the principal must hold, all of them; implies `authenticated`.
    package var permissions: [String]?
    package var rateLimits: [RateLimitDefinition]?
    /// Largest request body in bytes for this route (default: the process's `max_body_bytes`).
    package var maxBodyBytes: Int?
    /// `block` (default), `log`, or `off`: what the built-in inspection rules do on this route.
    package var inspection: String?
    package var transform: TransformDefinition?
    /// Cross-origin access for browsers on other origins; without it no CORS headers are sent.
    package var cors: CORSPolicy?
    /// `false` exempts the route from the table's default quotas (they apply under `/api/` otherwise).
    package var defaultRateLimits: Bool?

}

/// What a route matches: host names (exact or `*.example.com`), one path form, and methods.
package struct RouteMatchDefinition: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case hosts, path, methods
        case pathPrefix = "path_prefix"
    }

    package var hosts: [String]?
    /// Matches this path and everything under it (`/api/v1/crm/`).
    package var pathPrefix: String?
    /// A template whose `{name}` segments match one path segment each (`/api/v1/crm/leads/{id}`).
    package var path: String?
    package var methods: [String]?

}

/// A limit on requests per key over a period; `plans` overrides the limit for tenants on a named plan (the
/// tenant record's `plan`).
package struct RateLimitDefinition: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case key, limit, plans
        case periodSeconds = "period_seconds"
    }

    /// `api_key`, `user`, `tenant` or `ip`.
    package var key: String
    package var limit: Int
    package var periodSeconds: Double
    package var plans: [String: Int]?

    package init(key: String, limit: Int, periodSeconds: Double, plans: [String: Int]? = nil) {
        self.key = key
        self.limit = limit
        self.periodSeconds = periodSeconds
        self.plans = plans
    }
}

/// A remote service: its targets and how they are balanced, checked and retried.
package struct UpstreamDefinition: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case targets, balance, retries
        case connectTimeoutMs = "connect_timeout_ms"
        case tryTimeoutMs = "try_timeout_ms"
        case retryBudgetPercent = "retry_budget_percent"
        case healthCheck = "health_check"
        case ejectAfterFailures = "eject_after_failures"
        case ejectionMs = "ejection_ms"
        case breakerFailures = "breaker_failures"
        case breakerOpenMs = "breaker_open_ms"
    }

    /// `http://host:port` or `https://host:port`, optionally with a base path.
    package var targets: [String]
    /// `round_robin` (default) or `least_connections`.
    package var balance: String?
    package var connectTimeoutMs: Int?
    /// Time from sending a try until the response head arrives (the body then streams without a deadline).
    package var tryTimeoutMs: Int?
    /// Extra tries for idempotent requests without a body (default 2).
    package var retries: Int?
    /// Retries may add at most this share of the upstream's requests (default 20 %).
    package var retryBudgetPercent: Int?
    package var healthCheck: HealthCheckDefinition?
    /// Consecutive failures that eject a target, and for how long (passive health).
    package var ejectAfterFailures: Int?
    package var ejectionMs: Int?
    /// Consecutive failures of the whole upstream that open its circuit, and how long it stays open.
    package var breakerFailures: Int?
    package var breakerOpenMs: Int?

    package init(targets: [String], balance: String? = nil) {
        self.targets = targets
        self.balance = balance
    }
}

/// Active health checking of an upstream's targets.
package struct HealthCheckDefinition: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case path, enabled
        case intervalMs = "interval_ms"
        case timeoutMs = "timeout_ms"
        case healthyThreshold = "healthy_threshold"
        case unhealthyThreshold = "unhealthy_threshold"
    }

    package var path: String?
    package var intervalMs: Int?
    package var timeoutMs: Int?
    package var healthyThreshold: Int?
    package var unhealthyThreshold: Int?
    /// `false` switches active checks off.
    package var enabled: Bool?
}

/// Header, path and body changes applied to a route's requests and responses.
package struct TransformDefinition: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case requestHeaders = "request_headers"
        case responseHeaders = "response_headers"
        case stripPrefix = "strip_prefix"
        case rewritePath = "rewrite_path"
        case removeResponseFields = "remove_response_fields"
    }

    package var requestHeaders: HeaderTransformDefinition?
    package var responseHeaders: HeaderTransformDefinition?
    /// Removed from the start of the path before the request goes on (`/legacy`).
    package var stripPrefix: String?
    /// Replaces the path: `{name}` placeholders take the matched template's segments.
    package var rewritePath: String?
    /// Dotted names of fields removed from JSON responses (`data.internal_notes`, `*.secret` for every item).
    package var removeResponseFields: [String]?

}

/// Header edits, applied in the order remove, rename, add.
package struct HeaderTransformDefinition: Codable, Sendable, Equatable {
    package var add: [String: String]?
    package var remove: [String]?
    package var rename: [String: String]?

}

/// Another OpenID provider whose access tokens are accepted: its issuer, JWKS, audience, the tenant its users act
/// in, and how their permissions are read from a claim.
package struct ExternalIssuerDefinition: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case issuer, audience
        case jwksUrl = "jwks_url"
        case tenantId = "tenant_id"
        case permissionsClaim = "permissions_claim"
        case rolePermissions = "role_permissions"
    }

    package var issuer: String
    package var jwksUrl: String
    package var audience: String?
    /// The tenant id (UUID) the issuer's principals belong to.
    package var tenantId: String
    /// A dotted claim path holding roles or permissions (`realm_access.roles`, `scope`).
    package var permissionsClaim: String?
    /// Maps a claim value to permissions (a Keycloak role `sales` to `crm.leads:read`); values not listed that are
    /// permissions themselves are taken as they are.
    package var rolePermissions: [String: [String]]?
}

extension RateLimitDefinition {
    /// The quotas that apply when the route file names none.
    package static let builtInDefaults: [RateLimitDefinition] = [
        RateLimitDefinition(key: "api_key", limit: 1_000, periodSeconds: 3_600, plans: ["enterprise": 10_000]),
        RateLimitDefinition(key: "user", limit: 100, periodSeconds: 60),
    ]

    /// The website contact form's limit (the public lead capture route of CRM).
    package static let contactForm = RateLimitDefinition(key: "ip", limit: 5, periodSeconds: 900)
}
