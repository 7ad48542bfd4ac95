import ArgumentParser
import Foundation
import Kernel
import Logging
import Platform

/// `inopsio tenant create|list|suspend|activate|set-plan`: tenant administration from the command line.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants.",
        subcommands: [Create.self, List.self, Suspend.self, Activate.self, SetPlan.self])

    /// `inopsio tenant set-plan --slug --plan`: the plan picks the tenant's rate limits at the gateway (within 30 s).
    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-plan", abstract: "Move a tenant to another plan (standard or enterprise).")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The tenant's slug.") var slug: String
        @Option(help: "standard or enterprise.") var plan: String

        func run() async throws {
            let (slug, plan) = (self.slug, self.plan)
            try await withMigratedDatabase(options) { database in
                let store = TenantStore(database: database)
                guard let tenant = try await store.find(slug: slug) else { throw fail("no tenant with slug \(slug)") }
                do {
                    try await store.setPlan(plan, of: tenant.id)
                } catch DomainError.validation(let issues) {
                    throw fail(issues.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
                }
                print("\(slug): plan \(plan)")
            }
        }
    }

    /// `inopsio tenant suspend --slug`: the tenant's data stays; its sign-ins and tokens stop working.
    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a tenant (sign-ins and tokens stop).")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The tenant's slug.") var slug: String

        func run() async throws { try await TenantCommand.setStatus(.suspended, slug: slug, options: options) }
    }

    /// `inopsio tenant activate --slug`.
    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reactivate a suspended tenant.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The tenant's slug.") var slug: String

        func run() async throws { try await TenantCommand.setStatus(.active, slug: slug, options: options) }
    }

    static func setStatus(_ status: Tenant.Status, slug: String, options: ConfigurationOptions) async throws {
        try await withMigratedDatabase(options) { database in
            let store = TenantStore(database: database)
            guard let tenant = try await store.find(slug: slug) else { throw fail("no tenant with slug \(slug)") }
            try await store.setStatus(status, of: tenant.id)
            print("\(slug): \(status.rawValue)")
        }
    }

    /// `inopsio tenant create --slug --name [--plan]`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print it as JSON.")

        @OptionGroup var options: ConfigurationOptions
        @Option(help: "URL-safe identifier: lower-case letters, digits and hyphens.") var slug: String
        @Option(help: "Display name.") var name: String
        @Option(help: "standard or enterprise.") var plan: String = "standard"

        func run() async throws {
            let (slug, name, plan) = (self.slug, self.name, self.plan)
            try await withMigratedDatabase(options) { database in
                do {
                    let tenant = try await TenantStore(database: database).create(slug: slug, name: name, plan: plan)
                    print(try jsonText(tenant))
                } catch DomainError.validation(let issues) {
                    throw fail(issues.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
                } catch DomainError.conflict(let detail) {
                    throw fail(detail)
                }
            }
        }
    }

    /// `inopsio tenant list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants as JSON lines.")
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            try await withMigratedDatabase(options) { database in
                var after: String? = nil
                while true {
                    let page = try await TenantStore(database: database).list(limit: 200, afterSlug: after)
                    for tenant in page { print(try jsonText(tenant)) }
                    guard page.count == 200 else { break }
                    after = page.last?.slug
                }
            }
        }
    }
}

/// Opens the configured database, applies pending migrations (or refuses when `auto_migrate` is off and some
/// are pending), and runs `body`.
func withMigratedDatabase(
    _ options: ConfigurationOptions, _ body: @escaping @Sendable (any Database) async throws -> Void
) async throws {
    try await withInstallation(options) { database, _, _ in try await body(database) }
}

/// `withMigratedDatabase`, giving `body` the process's secrets box and modules as well.
func withInstallation(
    _ options: ConfigurationOptions,
    _ body: @escaping @Sendable (any Database, SecretBox, [any Module]) async throws -> Void
) async throws {
    let configuration = try options.resolve().configuration
    let modules: [any Module]
    do { modules = try ModuleCatalog.select(configuration.modules) } catch { throw fail(error.description, code: 2) }
    let sink = LogSink(fileDescriptor: 2, immediate: true)
    var quiet = configuration
    quiet.logLevel = max(configuration.logLevel, .warning)
    let logger = LoggerFactory.make(label: "inopsio", sink: sink, configuration: quiet)
    let autoMigrate = configuration.autoMigrate
    do {
        try await DatabaseConnector.withDatabase(configuration: configuration, logger: logger) { database in
            let (secrets, _, pending) = try await Installation.prepare(
                database, configuration: configuration, modules: modules, logger: logger, apply: autoMigrate)
            if pending > 0 {
                throw fail("\(pending) migration(s) pending and auto_migrate is off: run `inopsio migrate` first")
            }
            try await body(database, secrets, modules)
        }
    } catch let exit as ExitCode {
        throw exit
    } catch let error as MigrationError {
        throw fail(error.description)
    } catch let error as SecretError {
        throw fail(error.description)
    } catch {
        throw fail(String(reflecting: error))
    }
}

/// Compact JSON with sorted keys and RFC 3339 dates, one object per line of output.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339.string(from: date))
    }
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
