/// A permission string of the form `resource:action` (`crm.leads:write`), declared by the module that checks it.
package struct Permission: Hashable, Sendable, TextCodable, ExpressibleByStringLiteral {
    package let resource: String
    package let action: String

    package init(resource: String, action: String) {
        self.resource = resource
        self.action = action
    }

    /// Parses `resource:action`; both parts non-empty, lower-case letters, digits, `.`, `_` or `-`.
    package init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ Permission.isValidPart($0) }) else { return nil }
        self.resource = String(parts[0])
        self.action = String(parts[1])
    }

    package init(stringLiteral value: String) {
        guard let parsed = Permission(value) else {
            preconditionFailure("invalid permission literal \(value)")
        }
        self = parsed
    }

    package var description: String { "\(resource):\(action)" }

    static func isValidPart(_ part: Substring) -> Bool {
        !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
    }
}
