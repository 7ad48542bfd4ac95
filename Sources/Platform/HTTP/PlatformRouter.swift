import Hummingbird

/// Builds the one router of a process: platform middleware in a fixed order, platform routes, then every
/// module's API routes and pages, then the 405 answers.
///
/// Order, outermost first: observability (request id, access log, metrics: sees the final status), security
/// headers, error mapping (problem+json or HTML page), body limit.
public enum PlatformRouter {
    public static func build(
        modules: [any Module], context: ModuleContext, metrics: HTTPMetrics, accessLog: LogSink?
    ) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ObservabilityMiddleware(metrics: metrics, accessLog: accessLog))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorMiddleware(pages: WebErrorPages(web: context.web)))
        router.add(middleware: BodyLimitMiddleware(maxBodyBytes: context.configuration.maxBodyBytes))
        let routes = RouteRegistrar(router: router)
        let migrations = PlatformMigrations.all + modules.flatMap(\.migrations)
        HealthRoutes(database: context.database, migrations: migrations, metrics: metrics).register(on: routes)
        context.web.assets.register(on: routes)
        for module in modules {
            module.registerRoutes(on: routes, context: context)
            module.registerPages(on: routes, context: context)
        }
        routes.finish()
        return router
    }
}
