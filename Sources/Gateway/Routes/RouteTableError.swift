import Foundation

/// Everything wrong with a route file, each problem with its place (`routes[2].upstream: ...`). A table with any
/// problem is refused as a whole; a running gateway keeps its previous table.
package struct RouteTableError: Error, Sendable, Equatable, CustomStringConvertible {
    package let problems: [String]

    package init(_ problems: [String]) { self.problems = problems }

    package var description: String { problems.joined(separator: "\n") }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { key in
                key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
            }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "(top level)" : text)
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)): missing \(type) value"
        case .keyNotFound(let key, let context):
            let place = path(context)
            return "\(place == "(top level)" ? "" : place + ": ")missing required key \(key.stringValue)"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "the file could not be read: \(error)"
        }
    }
}
