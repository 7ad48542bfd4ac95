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
            let migrations = PlatformMigrations.all + modules.flatMap(\.migrations)
            let runner = try MigrationRunner(database: database, migrations: migrations, logger: logger)
            if configuration.autoMigrate {
                try await runner.apply()
            } else {
                let pending = try await runner.pendingCount()
                if pending > 0 {
                    logger.warning(
                        "migrations pending; /ready answers 503 until `inopsio migrate` has run",
                        metadata: ["pending": "\(pending)"])
                }
            }
            let context = try makeModuleContext(
                configuration: configuration, database: database, modules: modules, logger: logger)
            let application = try buildApplication(
                configuration: configuration, database: database, modules: modules, sink: sink, logger: logger,
                context: context)
            let background = modules.flatMap { $0.backgroundServices(context: context) }
            try await makeServiceGroup(
                application: application, sink: sink, configuration: configuration, logger: logger,
                background: background
            )
            .run()
            logger.info("server stopped")
        }
    }
}
