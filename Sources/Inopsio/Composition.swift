import CRM
import Foundation
import Gateway
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Identity
import Logging
import Messaging
import Platform
import Prometheus
import ServiceLifecycle
import Website

/// Every module this binary contains, in start-up order. The only place concrete modules are named.
enum ModuleCatalog {
    static func all() -> [any Module] {
        let domain: [any Module] = [IdentityModule(), CRMModule(), MessagingModule(), WebsiteModule()]
        // The gateway comes first: its edge handler fronts the router; it learns where each module's paths are.
        let gateway = GatewayModule(
            catalog: domain.map { ($0.name, $0.pathPrefixes) },
            uploads: Dictionary(uniqueKeysWithValues: domain.map { ($0.name, $0.uploadPaths) }))
        return [gateway] + domain
    }

    /// The modules `--modules` names (`nil` = all); unknown names are a configuration error.
    static func select(_ names: [String]?) throws(ConfigurationError) -> [any Module] {
        let available = all()
        guard let names else { return available }
        for name in names where !available.contains(where: { $0.name == name }) {
            throw ConfigurationError(
                key: "modules", source: "configuration",
                problem: "unknown module \(name); available: \(available.map(\.name).joined(separator: ", "))")
        }
        return available.filter { names.contains($0.name) }
    }
}

/// What every module is handed in this process.
func makeModuleContext(
    configuration: InopsioConfiguration, database: any Database, modules: [any Module], logger: Logger,
    secrets: SecretBox
) throws -> ModuleContext {
    let web = try WebKit.bundled(
        navigation: [NavigationItem(labelKey: "nav.home", href: "/")], modules: modules)
    // Roles are built from every module's permissions, including modules that run in other processes.
    var context = ModuleContext(
        database: database, configuration: configuration, logger: logger, web: web,
        permissions: ModuleCatalog.all().flatMap(\.permissions), moduleNames: modules.map(\.name),
        mailer: try Mailer.configured(configuration), secrets: secrets,
        blobs: try BlobStores.configured(configuration))
    // Every process verifies Inopsio credentials with Identity's verifier over the shared database (signing keys,
    // roles, API keys, tenant status, all cached), whether or not it serves Identity's routes: a module behind
    // the gateway checks the forwarded token again. Its user directory answers which ids are a tenant's users.
    let identity = modules.first { $0 is IdentityModule } ?? IdentityModule()
    context.authenticator = identity.authenticator(context: context)
    context.users = identity.userDirectory(context: context)
    return context
}

/// The composition root: builds the HTTP application for a configuration, database and module set.
/// `serve` and the tests call this same function.
func buildApplication(
    configuration: InopsioConfiguration, database: any Database, modules: [any Module], sink: LogSink?,
    logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in },
    context given: ModuleContext? = nil,
    tls: TLSCertificateStore? = nil
) throws -> some ApplicationProtocol {
    // `serve` passes the context it also gives the modules' background services; tests let it be made here.
    let context =
        try given
        ?? makeModuleContext(
            configuration: configuration, database: database, modules: modules, logger: logger,
            secrets: .ephemeral())
    let (router, edge) = try PlatformRouter.buildWithEdge(
        modules: modules, context: context, metrics: context.metrics, accessLog: configuration.accessLog ? sink : nil)
    // With a certificate the server speaks HTTPS, HTTP/2 or HTTP/1.1 as the client's ALPN asks. Without, HTTP/1.1
    // with the platform's header limits and idle timeout, and the gateway's fast path when this process runs it.
    var limits = EdgeHTTP1Channel.Limits()
    limits.idleTimeout = .seconds(configuration.idleTimeoutSeconds)
    let webSocket = WebSocketRoutes(
        routes: modules.flatMap { $0.webSocketRoutes(context: context) }, authenticator: context.authenticator)
    let server: HTTPServerBuilder =
        tls.map { .edgeTLS(tls: $0.serverConfiguration(), limits: limits, edge: edge, webSocket: webSocket) }
        ?? .edgeHTTP1(limits: limits, edge: edge, webSocket: webSocket)
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        onServerRunning: { channel in
            await onListening(channel.localAddress?.port ?? configuration.port)
            logger.info(
                "listening",
                metadata: [
                    "server.address": "\(configuration.host)",
                    "server.port": "\(channel.localAddress?.port ?? configuration.port)",
                    "database": "\(database.dialect.rawValue)",
                    "modules": "\(modules.map(\.name).joined(separator: ","))",
                    "tls": "\(tls != nil)",
                ])
        },
        logger: logger)
}

/// Everything long-running in a server process, in one group: SIGTERM/SIGINT start a graceful shutdown (the HTTP
/// server stops accepting, finishes in-flight requests, then the log is flushed), bounded by the grace period.
func makeServiceGroup(
    application: some ApplicationProtocol, sink: LogSink, configuration: InopsioConfiguration, logger: Logger,
    background: [any Service] = []
) -> ServiceGroup {
    // Services shut down in reverse order: the server first, then the modules' housekeeping, the log flusher last.
    var groupConfiguration = ServiceGroupConfiguration(
        services: [.init(service: LogFlushService(sink: sink))] + background.map { .init(service: $0) }
            + [.init(service: application)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds)
    groupConfiguration.maximumCancellationDuration = .seconds(5)
    return ServiceGroup(configuration: groupConfiguration)
}
