import ArgumentParser
import Foundation
import Gateway
import Platform

/// `inopsio gateway check-config FILE`: administration of the API gateway.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "API gateway administration.", subcommands: [CheckConfig.self])

    /// Checks a route file the way a running gateway would before swapping it in, and lists the routes it makes.
    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Check a gateway route file; prints every problem, or the routes it makes (exit 1 on problems).")

        @Argument(help: "The route file (JSON).")
        var file: String

        @OptionGroup var options: ConfigurationOptions

        @Option(help: "Modules the gateway's process runs (default: all), as for serve --modules.")
        var modules: String?

        @Option(name: .customLong("upstream"), help: "A remote module, module=url[,url] (repeatable), as for serve.")
        var upstream: [String] = []

        func run() async throws {
            var flags: [String: String] = [:]
            flags["modules"] = modules
            if !upstream.isEmpty { flags["upstreams"] = upstream.joined(separator: ";") }
            let configuration = try options.resolve(extraFlags: flags).configuration
            let catalog = ModuleCatalog.all()
            let local = Set(configuration.modules ?? catalog.map(\.name))
            let source = RouteTableStore.Source(
                file: file, configuration: configuration,
                catalog: catalog.filter { $0.name != "gateway" }.map { ($0.name, $0.pathPrefixes) }, localModules: local
            )
            do {
                let table = try source.load()
                print("\(file): OK, \(table.routes.count) routes, \(table.upstreams.count) upstreams")
                for route in table.routes {
                    print("  \(route.name)\(route.isDefault ? " (generated)" : "")")
                }
            } catch {
                for problem in error.problems { print("\(file): \(problem)") }
                throw ExitCode(1)
            }
        }
    }
}
