import ArgumentParser
import Foundation
import Logging
import Platform
import ServiceLifecycle

/// Runs a configured server to completion (used by `serve` and by the end-to-end tests through the binary).
enum Server {
    static func run(configuration: InopsioConfiguration, modules: [any Module], sink: LogSink, logger: Logger)
        async throws
    {
        try await DatabaseConnector.withDatabase(configuration: configuration, logger: logger) { database in
            let (secrets, _, pending) = try await Installation.prepare(
                database, configuration: configuration, modules: modules, logger: logger,
                apply: configuration.autoMigrate)
            if pending > 0 {
                logger.warning(
                    "migrations pending; /ready answers 503 until `inopsio migrate` has run",
                    metadata: ["pending": "\(pending)"])
            }
            let context = try makeModuleContext(
                configuration: configuration, database: database, modules: modules, logger: logger, secrets: secrets)
            var tls: TLSCertificateStore?
            if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
                tls = try TLSCertificateStore(certificatePath: certificate, keyPath: key, logger: logger)
            } else if configuration.tlsCertificate != nil || configuration.tlsKey != nil {
                throw ConfigurationError(
                    key: "tls_certificate", source: "configuration", problem: "set both tls_certificate and tls_key")
            }
            let application = try buildApplication(
                configuration: configuration, database: database, modules: modules, sink: sink, logger: logger,
                context: context, tls: tls)
            var background =
                modules.flatMap { $0.backgroundServices(context: context) } + (context.authenticator?.services ?? [])
                + (tls.map { [TLSReloadService(store: $0)] } ?? [])
                + ((context.blobs as? S3BlobStore).map { [$0] } ?? [])
            // Every process relays (one at a time on PostgreSQL) and runs its modules' consumer groups.
            if pending == 0 {
                var redisEvents: RedisEventTransport?
                if configuration.usesRedisEvents {
                    guard let url = configuration.redisURL else {
                        throw ConfigurationError(
                            key: "event_transport", source: "configuration", problem: "redis needs redis_url")
                    }
                    var redisConfiguration = try RedisConfiguration(url: url)
                    redisConfiguration.clientName = "inopsio-events"
                    let client = try RedisClient(configuration: redisConfiguration, logger: logger)
                    background.append(client)
                    redisEvents = RedisEventTransport(client: client)
                }
                let events = EventBackbone(
                    database: database, consumers: modules.flatMap { $0.consumers(context: context) },
                    settings: EventBackboneSettings(configuration), logger: logger,
                    metrics: context.metrics.registry, readiness: context.readiness, redis: redisEvents)
                try await events.registerSubscriptions()
                background += events.services
                background +=
                    JobScheduler(database: database, schedules: modules.flatMap(\.schedules), logger: logger)
                    .services
                background +=
                    JobQueue(
                        database: database, handlers: modules.flatMap { $0.jobHandlers(context: context) },
                        settings: EventBackboneSettings(configuration), logger: logger
                    ).services
            } else {
                logger.warning("event delivery not started: migrations pending")
            }
            try await makeServiceGroup(
                application: application, sink: sink, configuration: configuration, logger: logger,
                background: background
            )
            .run()
            logger.info("server stopped")
        }
    }
}
