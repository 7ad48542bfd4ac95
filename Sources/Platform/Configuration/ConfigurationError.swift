import Foundation
import Logging

/// A configuration value that cannot be used: start-up stops with this one line and exit code 2.
package struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    package let key: String
    package let source: String
    package let problem: String

    package init(key: String, source: String, problem: String) {
        self.key = key
        self.source = source
        self.problem = problem
    }

    package var description: String { "invalid configuration: \(key) (from \(source)): \(problem)" }
}
