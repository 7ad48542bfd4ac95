import ArgumentParser
import Foundation
import Platform

/// `inopsio secrets status|rotate-key|retire-key`: the keys that seal secrets at rest.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Keys that seal the secrets stored in the database.",
        subcommands: [Status.self, RotateKey.self, RetireKey.self])

    /// Every declared secret column of the selected modules.
    static func columns(_ modules: [any Module]) -> [SecretColumn] { modules.flatMap(\.secretColumns) }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the installation's keys and how many stored secrets each seals.")
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            try await withInstallation(options) { database, secrets, modules in
                let counts = try await SecretResealer.census(
                    columns: SecretsCommand.columns(modules), database: database)
                let current = secrets.keyring.current().id
                for entry in try await SecretKeyRegistry.entries(database: database) {
                    let state = entry.retired ? "retired" : entry.id == current ? "current" : "active"
                    print("\(entry.id)  \(state)  \(counts[entry.id] ?? 0) secret(s)")
                }
                if let plaintext = counts["plaintext"] { print("plaintext  \(plaintext) secret(s)") }
            }
        }
    }

    /// A new current key, then every stored secret re-sealed under it while servers keep running.
    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Seal every stored secret under a new key, without stopping the servers.",
            discussion: """
                With the key file (the default), a new key is put first in it and registered; running processes \
                that share the file read it again when they meet the new key, so nothing stops. The old keys stay \
                in the file until `retire-key`. With secrets_keys, no key is made: list the new key second on every \
                process, restart them, then run this with it first; it is registered and everything re-sealed.
                """)
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: "Re-seal under the current key without making a new one (what a concurrent write left behind).")
        var keepKey = false

        func run() async throws {
            let keepKey = keepKey
            try await withInstallation(options) { database, secrets, modules in
                let keyring = secrets.keyring
                let key: SecretKeyring.Key
                if case .file = keyring.source, !keepKey {
                    key = .generate()
                    try await SecretKeyRegistry.register(key, database: database)
                    try keyring.install(key)
                } else {
                    key = keyring.current()
                    try await SecretKeyRegistry.register(key, database: database)
                }
                let columns = SecretsCommand.columns(modules)
                var report = try await SecretResealer.reseal(columns: columns, secrets: secrets, database: database)
                // What changed while the pass ran was written by a server, sealed under its current key; a second
                // pass re-seals what was still sealed under an older one.
                if report.changedMeanwhile > 0 {
                    let again = try await SecretResealer.reseal(columns: columns, secrets: secrets, database: database)
                    report.resealed += again.resealed
                    report.changedMeanwhile = again.changedMeanwhile
                }
                print("current key \(key.id); re-sealed \(report.resealed) secret(s)")
                let census = try await SecretResealer.census(columns: columns, database: database)
                for (id, count) in census.sorted(by: { $0.key < $1.key }) where id != key.id {
                    print("still sealed under \(id): \(count); run `inopsio secrets rotate-key --keep-key` again")
                }
            }
        }
    }

    /// Drops a key nothing is sealed under any more.
    struct RetireKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire-key",
            abstract: "Retire a key that no stored secret uses any more (and remove it from the key file).")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The key id, as `secrets status` lists it.") var id: String

        func run() async throws {
            let id = id
            try await withInstallation(options) { database, secrets, modules in
                guard id != secrets.keyring.current().id else {
                    throw fail("\(id) is the current key; rotate to a new one first")
                }
                let census = try await SecretResealer.census(
                    columns: SecretsCommand.columns(modules), database: database)
                if let count = census[id], count > 0 {
                    throw fail(
                        "\(count) stored secret(s) are still sealed under \(id); run `inopsio secrets rotate-key` first"
                    )
                }
                try await SecretKeyRegistry.retire(id: id, database: database)
                if case .file = secrets.keyring.source, secrets.keyring.keys.contains(where: { $0.id == id }) {
                    try secrets.keyring.remove(id: id)
                }
                print("retired \(id)")
            }
        }
    }
}
