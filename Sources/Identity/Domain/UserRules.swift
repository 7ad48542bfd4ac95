import Foundation
import Kernel

/// Validation of the fields of a user, shared by sign-up, invitations and updates.
enum UserRules {
    static func nameIssue(_ name: String, field: String = "name") -> FieldIssue? {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.isEmpty || trimmed.count > 200 || trimmed != name else { return nil }
        return FieldIssue(
            field: field, code: "invalid_length", message: "1 to 200 characters without surrounding spaces")
    }

    static func localeIssue(_ locale: String?) -> FieldIssue? {
        guard let locale, !["en", "fr", "ar"].contains(locale) else { return nil }
        return FieldIssue(field: "locale", code: "invalid_value", message: "one of en, fr, ar")
    }

    static func timeZoneIssue(_ timeZone: String?) -> FieldIssue? {
        guard let timeZone, TimeZone(identifier: timeZone) == nil else { return nil }
        return FieldIssue(field: "time_zone", code: "invalid_value", message: "an IANA time zone such as Europe/Paris")
    }
}
