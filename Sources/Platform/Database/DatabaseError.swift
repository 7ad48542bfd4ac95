import Foundation
import Kernel
import SQLKit

/// Failures of the database layer itself (not of a query).
package enum DatabaseError: Error, CustomStringConvertible, Sendable {
    case notTenantScoped
    case closed
    case invalidURL(String)
    case unsupportedScheme(String)
    case unreachable(String, Duration)

    package var description: String {
        switch self {
        case .notTenantScoped: "a tenant-scoped call was made in a system transaction"
        case .closed: "the database has been closed"
        case .invalidURL(let reason): "invalid database URL: \(reason)"
        case .unreachable(let url, let timeout):
            "no connection to the database at \(url) within \(timeout.components.seconds) s (database_connect_timeout_seconds)"
        case .unsupportedScheme(let scheme): "unsupported database URL scheme \(scheme) (use postgres:// or sqlite://)"
        }
    }
}
