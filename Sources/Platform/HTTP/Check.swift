import Foundation
import Kernel

/// Checks shared by the modules' request bodies; each adds a `FieldIssue` and returns the cleaned value.
package enum Check {
    package static func text(_ value: String, field: String, max: Int, into validation: inout Validation) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed.count > max {
            validation.add(FieldIssue(field: field, code: "invalid_length", message: "1 to \(max) characters"))
        }
        return trimmed
    }

    package static func email(_ value: String, field: String, into validation: inout Validation) -> MailAddress? {
        guard let address = MailAddress.parse(value), address.address.count <= 254,
            address.address.allSatisfy({ $0.isASCII })
        else {
            validation.add(FieldIssue(field: field, code: "invalid_format", message: "an email address"))
            return nil
        }
        return address
    }

    package static func locale(_ value: String?, field: String, into validation: inout Validation) -> String? {
        guard let value else { return nil }
        let valid =
            (2...35).contains(value.count)
            && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        if !valid {
            validation.add(
                FieldIssue(field: field, code: "invalid_format", message: "a BCP 47 language tag (en, de-AT)"))
        }
        return value
    }

    package static func key(_ value: String, field: String, into validation: inout Validation) -> String {
        let valid =
            (1...64).contains(value.count)
            && value.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
        if !valid {
            validation.add(
                FieldIssue(field: field, code: "invalid_format", message: "1 to 64 of a-z, 0-9, '.', '_' and '-'"))
        }
        return value
    }
}
