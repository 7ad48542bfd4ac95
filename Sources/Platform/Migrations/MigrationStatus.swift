import Foundation
import Kernel
import Logging
import SQLKit

/// Whether one known migration has been applied.
public struct MigrationStatus: Sendable, Equatable {
    public let label: String
    public let applied: Bool
}
