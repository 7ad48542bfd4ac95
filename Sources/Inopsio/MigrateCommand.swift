import ArgumentParser
import Foundation
import Kernel
import Logging
import Platform

/// `inopsio migrate [--status]`: applies pending migrations, or lists every migration with its state.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply or list migrations.")

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "List migrations and whether each is applied, without changing anything.")
    var status = false

    func run() async throws {
        let configuration = try options.resolve().configuration
        let modules: [any Module]
        do { modules = try ModuleCatalog.select(configuration.modules) } catch {
            throw fail(error.description, code: 2)
        }
        let sink = LogSink(fileDescriptor: 2, immediate: true)
        let logger = LoggerFactory.make(label: "inopsio.migrate", sink: sink, configuration: configuration)
        let showStatus = status
        do {
            try await DatabaseConnector.withDatabase(configuration: configuration, logger: logger) { database in
                if showStatus {
                    let runner = try MigrationRunner(
                        database: database, migrations: PlatformMigrations.all + modules.flatMap(\.migrations),
                        logger: logger)
                    for entry in try await runner.status() {
                        print("\(entry.applied ? "applied" : "pending")  \(entry.label)")
                    }
                } else {
                    let applied = try await Installation.prepare(
                        database, configuration: configuration, modules: modules, logger: logger, apply: true
                    ).applied
                    print(
                        applied.isEmpty ? "nothing to apply" : applied.map { "applied  \($0)" }.joined(separator: "\n"))
                }
            }
        } catch let error as MigrationError {
            throw fail(error.description)
        } catch let error as SecretError {
            throw fail(error.description)
        } catch {
            throw fail("migration failed: \(String(reflecting: error))")
        }
    }
}
