import Crypto
import Foundation
import Kernel

/// One numbered, append-only schema change owned by one module. Statements may differ per dialect (column
/// types, row-level security); the checksum covers the statements of the dialect being migrated.
package struct Migration: Sendable {
    package let module: String
    package let number: Int
    package let name: String
    private let makeStatements: @Sendable (DatabaseDialect) -> [String]

    package init(
        module: String, number: Int, name: String, statements: @escaping @Sendable (DatabaseDialect) -> [String]
    ) {
        self.module = module
        self.number = number
        self.name = name
        self.makeStatements = statements
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
