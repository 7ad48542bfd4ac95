import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Active health checks: every upstream target's health path is fetched at the upstream's interval; a 2xx within
/// the timeout passes. Thresholds of consecutive results (in `UpstreamPool`) flip a target's health, and a
/// change is logged. Runs until graceful shutdown.
package struct UpstreamHealthChecker: Service {
    let routes: RouteTableStore
    let clients: UpstreamClients
    let metrics: GatewayMetrics
    let logger: Logger
    /// How often the loop wakes to see which checks are due.
    let tick: Duration = .milliseconds(100)

    package func run() async throws {
        var due: [String: ContinuousClock.Instant] = [:]
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let snapshot = routes.snapshot
                let now = ContinuousClock.now
                for pool in snapshot.pools.values {
                    let status = pool.status(now: now)
                    metrics.upstream(
                        status, breakerState: ["closed": 0, "open": 1, "half_open": 2][status.breaker] ?? 0)
                }
                await withTaskGroup(of: Void.self) { group in
                    for (name, pool) in snapshot.pools {
                        guard let check = pool.settings.healthCheck else { continue }
                        if let next = due[name], next > now { continue }
                        due[name] = now + check.interval
                        for index in pool.settings.targets.indices {
                            group.addTask { await probe(pool: pool, index: index, check: check) }
                        }
                    }
                }
                try? await Task.sleep(for: tick)
            }
        } onGracefulShutdown: {
        }
    }

    func probe(pool: UpstreamPool, index: Int, check: HealthCheckSettings) async {
        let target = pool.settings.targets[index]
        let before = pool.status(now: .now).targets[index].healthy
        var passed = false
        do {
            let request = HTTPClientRequest(url: target.origin + target.basePath + check.path)
            let response = try await clients.client(connectTimeout: min(check.timeout, pool.settings.connectTimeout))
                .execute(request, deadline: .now() + .nanoseconds(check.timeout.nanoseconds))
            passed = (200..<300).contains(Int(response.status.code))
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            passed = false
        }
        pool.recordCheck(target: index, passed: passed)
        let after = pool.status(now: .now).targets[index].healthy
        if before != after {
            logger.log(
                level: after ? .info : .warning,
                after ? "upstream target is healthy again" : "upstream target is unhealthy",
                metadata: ["gateway.upstream": "\(pool.settings.name)", "gateway.upstream.address": "\(target)"])
        }
    }
}
