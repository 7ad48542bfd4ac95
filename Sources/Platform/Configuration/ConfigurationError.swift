import Foundation
import Logging

/// A configuration value that cannot be used: start-up stops with this one line and exit code 2.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let source: String
    public let problem: String

    public init(key: String, source: String, problem: String) {
        self.key = key
        self.source = source
        self.problem = problem
    }

    public var description: String { "invalid configuration: \(key) (from \(source)): \(problem)" }
}
