import HTTPTypes
import Prometheus
import Synchronization

/// RED metrics per route template, method and status: `http_requests_total` and
/// `http_request_duration_seconds`. Handles are created once per label combination and cached, so a request
/// costs one dictionary lookup, not a registry lookup with freshly allocated label arrays.
package final class HTTPMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    private let handles = Mutex<[Key: Handles]>([:])

    /// One label combination.
    struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    /// The registered metrics of one label combination.
    struct Handles {
        let requests: Counter
        let duration: DurationHistogram
    }

    package static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Records one finished request.
    package func record(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = Key(route: route, method: method, status: status)
        let existing = handles.withLock { $0[key] }
        let metric = existing ?? makeHandles(key)
        metric.requests.increment()
        metric.duration.record(duration)
    }

    private func makeHandles(_ key: Key) -> Handles {
        let labels = [("route", key.route), ("method", key.method.rawValue), ("status", String(key.status))]
        let created = Handles(
            requests: registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    metricName: "http_requests", unitName: "total",
                    helpText: "HTTP requests by route, method and status"),
                labels: labels),
            duration: registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "http_request_duration", unitName: "seconds",
                    helpText: "HTTP request latency by route, method and status"),
                labels: labels, buckets: Self.buckets))
        return handles.withLock { table in
            if let raced = table[key] { return raced }
            table[key] = created
            return created
        }
    }

    /// The Prometheus text exposition of every metric in the registry.
    package func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
