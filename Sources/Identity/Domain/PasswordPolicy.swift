import Kernel

/// What a new password must satisfy: at least 10 characters (NIST SP 800-63B asks for 8 and recommends longer),
/// at most 256, not the account's email or its local part, and not a well-known common password.
package enum PasswordPolicy {
    package static let minimumLength = 10
    package static let maximumLength = 256

    /// The issues with `password` for the account `email` (empty when acceptable), under the field name `field`.
    package static func issues(password: String, email: String, field: String = "password") -> [FieldIssue] {
        if password.count < minimumLength {
            return [FieldIssue(field: field, code: "too_short", message: "use at least \(minimumLength) characters")]
        }
        if password.count > maximumLength {
            return [FieldIssue(field: field, code: "too_long", message: "use at most \(maximumLength) characters")]
        }
        let lower = password.lowercased()
        let emailLower = email.lowercased()
        let localPart = emailLower.split(separator: "@").first.map(String.init) ?? emailLower
        if lower == emailLower || lower == localPart {
            return [FieldIssue(field: field, code: "matches_email", message: "must not be your email address")]
        }
        if CommonPasswords.all.contains(Substring(lower)) || Set(lower).count < 3 {
            return [
                FieldIssue(
                    field: field, code: "too_common", message: "is a commonly used password; choose another")
            ]
        }
        return []
    }
}
