import HTTPTypes
import Kernel

/// A route of the compiled table: how it matches and what the gateway does with a request it takes.
package struct Route: Sendable {
    package enum Target: Sendable, Equatable {
        /// A module of this process, called directly through the router (no socket).
        case module(String)
        /// A remote service of the table's upstreams.
        case upstream(String)
    }

    package enum AuthPolicy: Sendable, Equatable {
        /// Credentials are verified when presented (an invalid token is refused), but none are required.
        case `public`
        case authenticated
        /// Authenticated and holding every one of these permissions.
        case permissions(Set<Permission>)
    }

    package enum InspectionMode: String, Sendable {
        case block
        case log
        case off
    }

    package let name: String
    package let hosts: HostMatcher?
    package let path: PathMatcher
    package let methods: Set<HTTPRequest.Method>?
    package let target: Target
    package let auth: AuthPolicy
    package let limits: [RateLimitRule]
    package let maxBodyBytes: Int?
    package let inspection: InspectionMode
    package let transform: RouteTransform?
    package let cors: CORSPolicy?
    /// Whether the table's default quotas count this route's requests under `/api/`.
    package let defaultLimits: Bool
    /// Generated from the modules rather than written in the file.
    package let isDefault: Bool

    /// The path parameters when the request matches this route, else `nil`.
    func match(host: Substring?, path requestPath: Substring, method: HTTPRequest.Method) -> [String: String]? {
        // HEAD goes with GET; a CORS preflight (OPTIONS) goes to the route whose policy answers it.
        if let methods, !methods.contains(method), !(method == .head && methods.contains(.get)),
            !(method == .options && cors != nil)
        {
            return nil
        }
        if let hosts, !hosts.matches(host) { return nil }
        return path.match(requestPath)
    }
}

/// Host names a route answers for: exact names and `*.domain` wildcards (one or more labels), without the port.
package struct HostMatcher: Sendable, Equatable {
    let exact: Set<String>
    let suffixes: [String]

    init(_ patterns: [String]) {
        var exact = Set<String>()
        var suffixes: [String] = []
        for pattern in patterns.map({ $0.lowercased() }) {
            if pattern.hasPrefix("*.") { suffixes.append(String(pattern.dropFirst())) } else { exact.insert(pattern) }
        }
        self.exact = exact
        self.suffixes = suffixes
    }

    func matches(_ authority: Substring?) -> Bool {
        guard let authority else { return false }
        var host = authority
        // Strip a port, but not the colons of an IPv6 literal.
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = host[..<colon] }
        // `example.com.` is the same name as `example.com`.
        if host.hasSuffix(".") { host = host.dropLast() }
        let name = host.lowercased()
        if exact.contains(name) { return true }
        return suffixes.contains { name.hasSuffix($0) && name.count > $0.count }
    }
}

/// A rate limit of a route: `limit` requests per `period` for each value of `key`.
package struct RateLimitRule: Sendable, Equatable {
    package enum Key: String, Sendable {
        case apiKey = "api_key"
        case user
        case tenant
        case ip
    }

    package let key: Key
    package let limit: Int
    package let period: Double
    /// Limits for tenants on named plans.
    package let plans: [String: Int]

    package init(key: Key, limit: Int, period: Double, plans: [String: Int] = [:]) {
        self.key = key
        self.limit = limit
        self.period = period
        self.plans = plans
    }

    /// The `RateLimit-Policy` name: `100;w=60`.
    package func limit(forPlan plan: String?) -> Int {
        plan.flatMap { plans[$0] } ?? limit
    }
}
