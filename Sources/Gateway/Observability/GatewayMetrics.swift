import Platform
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, beside the platform's per-route RED metrics:
/// - `gateway_requests_total{route,upstream,status}` and `gateway_upstream_duration_seconds{route,upstream}`
/// - `gateway_upstream_healthy{upstream,target}` (1/0), `gateway_upstream_ejected{upstream,target}` (1/0),
///   `gateway_upstream_breaker_state{upstream}` (0 closed, 1 open, 2 half-open)
/// - `gateway_rate_limit_decisions_total{route,policy,decision}`, `gateway_rate_limiter_degraded` (1 while the
///   shared Redis limits have fallen back to local counters)
/// - `gateway_inspection_matches_total{rule,action}`, `gateway_blocked_total{reason}`
/// - `gateway_fast_path_requests_total{route}`: the share of a route's requests taking the fast path
/// Handles are cached per label combination, so a request costs dictionary lookups, not registry lookups.
package final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let counters = HandleCache<Counter>()
    private let histograms = HandleCache<DurationHistogram>()
    private let gauges = HandleCache<Gauge>()

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func request(route: String, upstream: String, status: Int, upstreamDuration: Duration?) {
        let handles = requestHandles(RequestKey(route: route, upstream: upstream, status: status))
        handles.requests.increment()
        if let upstreamDuration { handles.upstreamDuration.record(upstreamDuration) }
    }

    /// One request of `route` decided and answered on the fast path (the rest of the route's went the ordinary
    /// way): shows whether a route's traffic gets the cheap path.
    func fastPath(route: String) {
        if let counter = fastPathCounters.withLock({ $0[route] }) {
            counter.increment()
            return
        }
        let made = counter(
            "gateway_fast_path_requests", help: "Requests answered on the gateway's event-loop fast path",
            labels: [("route", route)])
        fastPathCounters.withLock { $0[route] = made }
        made.increment()
    }

    // The per-request metrics by a key that needs no label array (building one per request showed in profiles).
    private struct RequestKey: Hashable {
        let route: String
        let upstream: String
        let status: Int
    }

    private struct RequestHandles: Sendable {
        let requests: Counter
        let upstreamDuration: DurationHistogram
    }

    private let requestHandleCache = Mutex<[RequestKey: RequestHandles]>([:])
    private let fastPathCounters = Mutex<[String: Counter]>([:])

    private func requestHandles(_ key: RequestKey) -> RequestHandles {
        if let existing = requestHandleCache.withLock({ $0[key] }) { return existing }
        let made = RequestHandles(
            requests: counter(
                "gateway_requests", help: "Requests through the gateway by route, upstream and status",
                labels: [("route", key.route), ("upstream", key.upstream), ("status", String(key.status))]),
            upstreamDuration: histogram(
                "gateway_upstream_duration", help: "Time to the upstream's response head",
                labels: [("route", key.route), ("upstream", key.upstream)]))
        requestHandleCache.withLock { $0[key] = made }
        return made
    }

    func rateLimit(route: String, policy: String, allowed: Bool) {
        counter(
            "gateway_rate_limit_decisions", help: "Rate limiter decisions",
            labels: [("route", route), ("policy", policy), ("decision", allowed ? "allowed" : "refused")]
        ).increment()
    }

    func inspection(rule: String, action: String) {
        counter(
            "gateway_inspection_matches", help: "Request inspection rule matches",
            labels: [("rule", rule), ("action", action)]
        ).increment()
    }

    func blocked(reason: String) {
        counter(
            "gateway_blocked", help: "Requests refused by the block list or inspection",
            labels: [("reason", reason)]
        ).increment()
    }

    func limiterDegraded(_ degraded: Bool) {
        gauge(
            "gateway_rate_limiter_degraded", help: "1 while shared rate limits fall back to local counters",
            labels: []
        ).set(to: degraded ? 1.0 : 0.0)
    }

    func upstream(_ status: UpstreamStatus, breakerState: Int) {
        gauge(
            "gateway_upstream_breaker_state", help: "Circuit breaker: 0 closed, 1 open, 2 half-open",
            labels: [("upstream", status.name)]
        ).set(to: Double(breakerState))
        for target in status.targets {
            let labels = [("upstream", status.name), ("target", target.address)]
            gauge(
                "gateway_upstream_healthy", help: "1 when the target passes its active health checks",
                labels: labels
            ).set(to: target.healthy ? 1.0 : 0.0)
            gauge(
                "gateway_upstream_ejected", help: "1 while the target is ejected after failures",
                labels: labels
            ).set(to: target.ejected ? 1.0 : 0.0)
        }
    }

    private func counter(_ name: String, help: String, labels: [(String, String)]) -> Counter {
        counters.handle(name, labels) {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help), labels: labels)
        }
    }

    private func histogram(_ name: String, help: String, labels: [(String, String)]) -> DurationHistogram {
        histograms.handle(name, labels) {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "seconds", helpText: help),
                labels: labels, buckets: HTTPMetrics.buckets)
        }
    }

    private func gauge(_ name: String, help: String, labels: [(String, String)]) -> Gauge {
        gauges.handle(name, labels) {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
        }
    }
}

/// Registered metric handles by name and label values, made once each.
final class HandleCache<Handle: Sendable>: Sendable {
    private let handles = Mutex<[[String]: Handle]>([:])

    func handle(_ name: String, _ labels: [(String, String)], make: () -> Handle) -> Handle {
        let key = [name] + labels.map(\.1)
        if let existing = handles.withLock({ $0[key] }) { return existing }
        let made = make()
        return handles.withLock { table in
            if let raced = table[key] { return raced }
            table[key] = made
            return made
        }
    }
}
