import Foundation
import Kernel
import Logging
import SQLKit

/// Whether one known migration has been applied.
package struct MigrationStatus: Sendable, Equatable {
    package let label: String
    package let applied: Bool
}
