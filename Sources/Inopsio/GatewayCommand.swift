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

        @Option(help: "Modules the gateway's process runs (default: all), as for serve --modules.")
        var modules: String?

        @Option(name: .customLong("upstream"), help: "A remote module, module=url[,url] (repeatable), as for serve.")
        var upstream: [String] = []

        func run() async throws {
            let catalog = ModuleCatalog.all()
            let local = modules.map { Set($0.split(separator: ",").map(String.init)) } ?? Set(catalog.map(\.name))
            var remote: [String: [String]] = [:]
            for entry in upstream {
                let parts = entry.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw fail("--upstream must be module=url[,url]", code: 2) }
                remote[String(parts[0]), default: []] += parts[1].split(separator: ",").map(String.init)
            }
            let locations = catalog.filter { $0.name != "gateway" }.map { module in
                RouteTable.ModuleLocation(
                    name: module.name, pathPrefixes: module.pathPrefixes,
                    remoteTargets: local.contains(module.name) ? nil : remote[module.name])
            }
            do {
                let table = try RouteTableStore.Source(file: file, modules: locations, localModules: local).load()
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
