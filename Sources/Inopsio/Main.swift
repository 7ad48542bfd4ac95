import ArgumentParser

/// The `inopsio` command: one binary for the server, migrations and administration.
@main
struct InopsioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inopsio",
        abstract: "Inopsio: open-source business operations platform.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, TenantCommand.self, IdentityCommand.self, GatewayCommand.self,
            AuditCommand.self,
            ConfigCommand.self, VersionCommand.self,
        ],
        defaultSubcommand: nil
    )
}
