import Foundation
import Logging
import Platform

/// What every command that opens the database shares: the secrets keys, the migrations, and the check of the keys
/// against the database's.
enum Installation {
    /// Loads the secrets keys (making the key file on a first start), applies pending migrations when `apply` (a
    /// migration may seal stored secrets with them), then, once nothing is pending, checks the keys against the
    /// installation's (`SecretKeyRegistry`): a process with other keys stops here, before it seals or opens
    /// anything.
    static func prepare(
        _ database: any Database, configuration: InopsioConfiguration, modules: [any Module], logger: Logger,
        apply: Bool
    ) async throws -> (secrets: SecretBox, applied: [String], pending: Int) {
        let secrets = SecretBox(keyring: try SecretKeyring.configured(configuration, logger: logger))
        let runner = try MigrationRunner(
            database: database, migrations: PlatformMigrations.all + modules.flatMap(\.migrations), logger: logger,
            services: MigrationServices(secrets: secrets))
        let applied = apply ? try await runner.apply() : []
        let pending = try await runner.pendingCount()
        if pending == 0 { try await SecretKeyRegistry.check(secrets.keyring, database: database) }
        return (secrets, applied, pending)
    }
}
