import Hummingbird

/// Builds the one router of a process: the platform middleware, platform routes, then every module's API routes
/// and pages, then the 405 answers.
package enum PlatformRouter {
    package static func build(
        modules: [any Module], context: ModuleContext, metrics: HTTPMetrics, accessLog: LogSink?
    ) throws -> Router<AppRequestContext> {
        try buildWithEdge(modules: modules, context: context, metrics: metrics, accessLog: accessLog).router
    }

    /// The router and the gateway's edge handler when a module provides one (the server asks it for a
    /// per-connection handler).
    package static func buildWithEdge(
        modules: [any Module], context: ModuleContext, metrics: HTTPMetrics, accessLog: LogSink?
    ) throws -> (router: Router<AppRequestContext>, edge: (any EdgeHandler)?) {
        let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
        // One verifier of credentials for the whole process: the context's (Identity's, built by the composition
        // root even where Identity's routes are not served), else a module's.
        let authenticator =
            context.authenticator ?? modules.lazy.compactMap { $0.authenticator(context: context) }.first
        var edge: (any EdgeHandler)?
        for module in modules where edge == nil {
            edge = try module.edgeHandler(context: context, authenticator: authenticator)
        }
        router.add(
            middleware: PlatformMiddleware(
                metrics: metrics, accessLog: accessLog, errorPages: WebErrorPages(web: context.web),
                maxBodyBytes: context.configuration.maxBodyBytes, uploads: UploadPaths(modules.flatMap(\.uploadPaths)),
                maxUploadBytes: context.configuration.maxUploadBytes, tls: context.configuration.tlsCertificate != nil,
                authenticator: authenticator, edge: edge))
        let routes = RouteRegistrar(router: router)
        let migrations = PlatformMigrations.all + modules.flatMap(\.migrations)
        HealthRoutes(database: context.database, migrations: migrations, metrics: metrics, details: context.readiness)
            .register(on: routes)
        context.web.assets.register(on: routes)
        for module in modules {
            module.registerRoutes(on: routes, context: context)
            module.registerPages(on: routes, context: context)
        }
        routes.finish()
        edge?.routerReady(router.buildResponder(), observers: EdgeObservers(metrics: metrics, accessLog: accessLog))
        return (router, edge)
    }
}
