import Foundation
import Kernel
import Logging
import Platform
import ServiceLifecycle

/// Everything the gateway keeps while it runs: the route table, the upstream clients, the limiter, the block
/// list, the edge handler built on them, and the background services that check upstreams, reload the routes
/// and refresh the block list.
package final class GatewayRuntime: Sendable {
    package let routes: RouteTableStore
    package let clients: UpstreamClients
    package let limiter: any RateLimiter
    package let blocks: BlockList
    package let metrics: GatewayMetrics
    package let edge: EdgeGateway
    let services: [any Service]

    init(
        context: ModuleContext, catalog: [(name: String, pathPrefixes: [String])], uploads: [String: [String]] = [:],
        authenticator: (any RequestAuthenticator)?
    ) throws {
        let configuration = context.configuration
        let logger = context.logger
        routes = try RouteTableStore(
            source: .init(
                file: configuration.gatewayRoutes, configuration: configuration, catalog: catalog, uploads: uploads,
                localModules: Set(context.moduleNames)),
            logger: logger)
        clients = UpstreamClients()
        blocks = BlockList(database: context.database)
        metrics = GatewayMetrics(registry: context.metrics.registry)
        var services: [any Service] = []
        let localLimiter = SlidingWindowLimiter()
        if let url = configuration.redisURL {
            var redisConfiguration = try RedisConfiguration(url: url)
            // Every limited request waits for Redis: a slow Redis must cost little before the fallback takes over
            // (250 ms unless the URL says otherwise with `?timeout_ms=`).
            if !redisConfiguration.timeoutFromURL {
                redisConfiguration.commandTimeout = .milliseconds(250)
                redisConfiguration.connectTimeout = .milliseconds(250)
            }
            redisConfiguration.clientName = "inopsio-gateway"
            let redis = try RedisClient(configuration: redisConfiguration, logger: logger)
            let shared = RedisSlidingWindowLimiter(redis: redis, fallback: localLimiter, logger: logger)
            limiter = shared
            services.append(redis)
            let metrics = metrics
            context.readiness.register("rate_limits") {
                let degradation = shared.degradation
                metrics.limiterDegraded(degradation != nil)
                return degradation.map { "local counters per instance (\($0))" } ?? "shared through redis"
            }
        } else {
            limiter = localLimiter
            context.readiness.register("rate_limits") { "local counters (no redis_url)" }
        }
        let routes = self.routes
        context.readiness.register("upstreams") {
            let now = ContinuousClock.now
            let statuses = routes.snapshot.pools.values.map { $0.status(now: now) }.sorted { $0.name < $1.name }
            guard !statuses.isEmpty else { return "none (every route is served by this process)" }
            return statuses.map { status in
                let usable = status.targets.filter { $0.healthy && !$0.ejected }.count
                return "\(status.name) \(usable)/\(status.targets.count) usable, circuit \(status.breaker)"
            }.joined(separator: "; ")
        }
        edge = EdgeGateway(
            routes: routes,
            authenticator: EdgeAuthenticator(
                inopsio: authenticator, external: ExternalIssuerVerifier(clients: clients)),
            limiter: limiter, proxy: UpstreamProxy(clients: clients),
            tenants: TenantStatusCache(database: context.database, clock: context.clock),
            blocks: blocks, metrics: metrics, defaultMaxBodyBytes: configuration.maxBodyBytes,
            tls: configuration.tlsCertificate != nil, fastPathEnabled: configuration.gatewayFastPath,
            logger: logger)
        // Services stop in reverse order: the clients' owner first in the list, so it stops after the health
        // checker that uses them.
        services.insert(UpstreamClientsService(clients: clients), at: 0)
        services += [
            UpstreamHealthChecker(routes: routes, clients: clients, metrics: metrics, logger: logger),
            RouteReloadService(routes: routes, logger: logger),
            BlockListService(blocks: blocks, logger: logger),
        ]
        self.services = services
    }
}

/// Shuts the upstream HTTP clients down when the server stops (after the HTTP server, which stops first).
struct UpstreamClientsService: Service {
    let clients: UpstreamClients

    func run() async throws {
        try? await gracefulShutdown()
        await clients.shutdown()
    }
}
