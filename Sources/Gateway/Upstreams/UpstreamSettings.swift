import Foundation

/// A remote service's compiled settings: its targets and the limits of balancing, health and retries.
package struct UpstreamSettings: Sendable, Equatable {
    package enum Balance: String, Sendable {
        case roundRobin = "round_robin"
        case leastConnections = "least_connections"
    }

    package let name: String
    package let targets: [UpstreamTarget]
    package let balance: Balance
    package let connectTimeout: Duration
    package let tryTimeout: Duration
    package let retries: Int
    package let retryBudgetPercent: Int
    package let healthCheck: HealthCheckSettings?
    package let ejectAfterFailures: Int
    package let ejection: Duration
    package let breakerFailures: Int
    package let breakerOpen: Duration

    static func compile(name: String, _ definition: UpstreamDefinition) -> Result<UpstreamSettings, RouteTableError> {
        var problems: [String] = []
        var targets: [UpstreamTarget] = []
        if definition.targets.isEmpty { problems.append("targets: list at least one http(s):// target") }
        for (index, text) in definition.targets.enumerated() {
            if let target = UpstreamTarget(text) {
                targets.append(target)
            } else {
                problems.append("targets[\(index)]: \(text) is not an http(s)://host[:port][/path] URL")
            }
        }
        let balance = Balance(rawValue: definition.balance ?? "round_robin")
        if balance == nil { problems.append("balance: must be round_robin or least_connections") }
        func milliseconds(_ value: Int?, _ field: String, default fallback: Int, range: ClosedRange<Int>) -> Duration {
            let value = value ?? fallback
            if !range.contains(value) {
                problems.append("\(field): must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return .milliseconds(value)
        }
        func count(_ value: Int?, _ field: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
            let value = value ?? fallback
            if !range.contains(value) {
                problems.append("\(field): must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return value
        }
        let connect = milliseconds(
            definition.connectTimeoutMs, "connect_timeout_ms", default: 1_000, range: 10...60_000)
        let tryTimeout = milliseconds(definition.tryTimeoutMs, "try_timeout_ms", default: 15_000, range: 10...600_000)
        let retries = count(definition.retries, "retries", default: 2, range: 0...5)
        let budget = count(definition.retryBudgetPercent, "retry_budget_percent", default: 20, range: 0...100)
        let ejectAfter = count(definition.ejectAfterFailures, "eject_after_failures", default: 3, range: 1...1_000)
        let ejection = milliseconds(definition.ejectionMs, "ejection_ms", default: 10_000, range: 100...3_600_000)
        let breakerFailures = count(definition.breakerFailures, "breaker_failures", default: 20, range: 1...10_000)
        let breakerOpen = milliseconds(
            definition.breakerOpenMs, "breaker_open_ms", default: 5_000, range: 100...3_600_000)
        var health: HealthCheckSettings?
        let check = definition.healthCheck
        if check?.enabled != false {
            let path = check?.path ?? "/health"
            if !path.hasPrefix("/") { problems.append("health_check.path: must start with /") }
            health = HealthCheckSettings(
                path: path,
                interval: milliseconds(
                    check?.intervalMs, "health_check.interval_ms", default: 2_000, range: 100...600_000),
                timeout: milliseconds(check?.timeoutMs, "health_check.timeout_ms", default: 1_000, range: 10...60_000),
                healthyThreshold: count(
                    check?.healthyThreshold, "health_check.healthy_threshold", default: 2, range: 1...100),
                unhealthyThreshold: count(
                    check?.unhealthyThreshold, "health_check.unhealthy_threshold", default: 2, range: 1...100))
        }
        guard problems.isEmpty, let balance else { return .failure(RouteTableError(problems)) }
        return .success(
            UpstreamSettings(
                name: name, targets: targets, balance: balance, connectTimeout: connect, tryTimeout: tryTimeout,
                retries: retries, retryBudgetPercent: budget, healthCheck: health, ejectAfterFailures: ejectAfter,
                ejection: ejection, breakerFailures: breakerFailures, breakerOpen: breakerOpen))
    }
}

/// Active health checking: a GET of `path` on every target each `interval`.
package struct HealthCheckSettings: Sendable, Equatable {
    package let path: String
    package let interval: Duration
    package let timeout: Duration
    package let healthyThreshold: Int
    package let unhealthyThreshold: Int
}

/// One target of an upstream: `http(s)://host:port` and an optional base path prepended to every request path.
///
/// Its texts are made once: a target is hashed and described on every proxied request.
package struct UpstreamTarget: Sendable, Hashable, CustomStringConvertible {
    package let scheme: String
    package let host: String
    package let port: Int
    package let basePath: String
    /// `scheme://host:port`, the origin requests go to.
    package let origin: String
    package let description: String

    package init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil, components.user == nil
        else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
        let path = components.path
        self.basePath = path.hasSuffix("/") ? String(path.dropLast()) : path
        let literal = host.contains(":") ? "[\(host)]" : host
        self.origin = "\(scheme)://\(literal):\(port)"
        self.description = origin + basePath
    }

    // The description holds every part: one string to compare and hash.
    package static func == (lhs: UpstreamTarget, rhs: UpstreamTarget) -> Bool { lhs.description == rhs.description }
    package func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
