import Foundation
import Kernel

/// An email address as accounts store it: trimmed and lower-cased, one `@`, a dotted domain, no spaces.
/// Deliberately lenient (RFC 5322 allows far more); the invitation or verification mail is the real check.
package enum EmailAddress {
    /// The normalised address, or `nil` when it is not plausibly an email address.
    package static func normalise(_ text: String) -> String? {
        let email = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard email.count <= 254, !email.contains(where: { $0.isWhitespace || $0.isNewline }) else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return nil }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { return nil }
        return email
    }

    /// A validation issue for `field` when `text` is not an email address.
    package static func issue(_ text: String, field: String = "email") -> FieldIssue? {
        normalise(text) == nil
            ? FieldIssue(field: field, code: "invalid_format", message: "is not a valid email address") : nil
    }
}
