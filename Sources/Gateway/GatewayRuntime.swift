import Foundation
import Kernel
import Logging
import Platform
import ServiceLifecycle

/// Everything the gateway keeps while it runs: the route table, the upstream clients, the limiter, the edge
/// handler built on them, and the background services that check upstreams and reload the routes.
package final class GatewayRuntime: Sendable {
    package let routes: RouteTableStore
    package let clients: UpstreamClients
    package let limiter: any RateLimiter
    package let edge: EdgeGateway
    let services: [any Service]

    init(
        context: ModuleContext, catalog: [(name: String, pathPrefixes: [String])],
        authenticator: (any RequestAuthenticator)?
    )
        throws
    {
        let configuration = context.configuration
        let local = Set(context.moduleNames)
        let modules = catalog.map { module in
            RouteTable.ModuleLocation(
                name: module.name, pathPrefixes: module.pathPrefixes,
                remoteTargets: local.contains(module.name) ? nil : configuration.upstreams[module.name])
        }
        let logger = context.logger
        routes = try RouteTableStore(
            source: .init(file: configuration.gatewayRoutes, modules: modules, localModules: local), logger: logger)
        clients = UpstreamClients()
        let limiter = SlidingWindowLimiter()
        self.limiter = limiter
        edge = EdgeGateway(
            routes: routes,
            authenticator: EdgeAuthenticator(
                inopsio: authenticator, external: ExternalIssuerVerifier(clients: clients)),
            limiter: limiter, proxy: UpstreamProxy(clients: clients),
            plans: TenantPlanCache(database: context.database),
            defaultMaxBodyBytes: configuration.maxBodyBytes, tls: false, logger: logger)
        services = [
            UpstreamHealthChecker(routes: routes, clients: clients, logger: logger),
            RouteReloadService(routes: routes, logger: logger),
            UpstreamClientsService(clients: clients),
        ]
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
