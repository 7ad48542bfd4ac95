import Foundation
import Kernel
import Logging
import SQLKit

/// Why migrations refused to run.
package enum MigrationError: Error, CustomStringConvertible, Equatable {
    case checksumMismatch(label: String)
    case badNumbering(module: String, numbers: [Int])

    package var description: String {
        switch self {
        case .checksumMismatch(let label):
            "applied migration \(label) has changed since it was applied (checksum mismatch); migrations are append-only: add a new one instead"
        case .badNumbering(let module, let numbers):
            "migrations of module \(module) must be numbered 1, 2, 3, ... without gaps; found \(numbers)"
        }
    }
}
