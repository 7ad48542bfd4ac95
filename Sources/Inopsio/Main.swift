import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// The process entry point. Before anything async starts, Swift concurrency's global executor becomes NIO's event
/// loop group, so a request's handler runs on the threads that do its I/O instead of hopping to Swift's own pool
/// and back for every read and write (the gateway's proxying is dominated by such hops otherwise). Nothing in the
/// code may block a thread for long: password hashing runs on its own Dispatch queue, SQLite on NIO's thread pool.
@main
enum InopsioMain {
    static func main() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            await InopsioCommand.main()
            exit(0)
        }
        dispatchMain()
    }
}

/// The `inopsio` command: one binary for the server, migrations and administration.
struct InopsioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inopsio",
        abstract: "Inopsio: open-source business operations platform.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, TenantCommand.self, IdentityCommand.self, GatewayCommand.self,
            AuditCommand.self, EventsCommand.self, JobsCommand.self, SecretsCommand.self,
            ConfigCommand.self, VersionCommand.self,
        ],
        defaultSubcommand: nil
    )
}
