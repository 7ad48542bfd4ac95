import Crypto
import Foundation
import Kernel

/// One numbered, append-only schema change owned by one module. Statements may differ per dialect (column
/// types, row-level security); the checksum covers the statements of the dialect being migrated.
///
/// A migration may also change data with code (`step`, run after its statements in the same transaction), for
/// what SQL cannot do alone, such as sealing stored secrets with the process's key. The checksum cannot cover
/// code: such a step must never change once released.
package struct Migration: Sendable {
    package typealias Step = @Sendable (Transaction, MigrationServices) async throws -> Void
    package let module: String
    package let number: Int
    package let name: String
    private let makeStatements: @Sendable (DatabaseDialect) -> [String]
    let step: Step?

    package init(
        module: String, number: Int, name: String, step: Step? = nil,
        statements: @escaping @Sendable (DatabaseDialect) -> [String]
    ) {
        self.module = module
        self.number = number
        self.name = name
        self.makeStatements = statements
        self.step = step
    }

    /// A migration that seals the values `columns` hold in plaintext (written by versions that stored them so).
    package static func sealSecrets(module: String, number: Int, columns: [SecretColumn]) -> Migration {
        Migration(
            module: module, number: number, name: "seal_secrets",
            step: { tx, services in
                _ = try await SecretResealer.sealPlaintext(columns: columns, secrets: services.secrets, in: tx)
            }, statements: { _ in [] })
    }

    package func statements(for dialect: DatabaseDialect) -> [String] { makeStatements(dialect) }

    /// SHA-256 (hex) of the statements for `dialect`: start-up refuses to run if an applied migration changed.
    package func checksum(for dialect: DatabaseDialect) -> String {
        let text = statements(for: dialect).joined(separator: "\n;\n")
        return SHA256.hash(data: Data(text.utf8)).lowercaseHex
    }

    /// `module#number name`, as logs and `inopsio migrate --status` show it.
    package var label: String { "\(module)#\(number) \(name)" }
}

/// What a migration's code step may use: the process's secrets box (nil where the caller has none; a step that
/// needs it then fails only if there is something to seal).
package struct MigrationServices: Sendable {
    package let secrets: SecretBox?

    package init(secrets: SecretBox? = nil) {
        self.secrets = secrets
    }
}
