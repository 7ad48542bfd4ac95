import Foundation
import Kernel

/// A tenant's own field on one kind of CRM record (`lead`, `contact`, `company`, `deal`), typed so values are checked when
/// they are written and compared by type when lists are filtered.
package struct CustomField: Sendable, Equatable, Encodable {
    package enum Entity: String, Sendable, Codable, CaseIterable {
        case lead, contact, company, deal
    }

    package enum Kind: String, Sendable, Codable, CaseIterable {
        case text, number, date, select, boolean
    }

    package let id: ID<CustomField>
    package let entity: Entity
    /// The name in `custom_fields` (`a-z`, digits and `_`, starting with a letter); fixed once created.
    package let key: String
    package var label: String
    package let kind: Kind
    /// The choices of a `select` field.
    package var options: [String]
    package let createdAt: Date

    /// Definitions per tenant and kind of record.
    package static let maximum = 20

    enum CodingKeys: String, CodingKey {
        case id, entity, key, label, options
        case kind = "type"
        case createdAt = "created_at"
    }

    /// Whether `key` may name a field.
    package static func isValidKey(_ key: String) -> Bool {
        guard let first = key.first, first.isASCII, first.isLowercase, (1...40).contains(key.count) else {
            return false
        }
        return key.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    /// `value` checked against this field's type: `nil` when it may be stored, else an issue naming `field`.
    package func check(_ value: JSONValue, field: String) -> FieldIssue? {
        func issue(_ message: String) -> FieldIssue? {
            FieldIssue(field: field, code: "invalid_value", message: message)
        }
        switch (kind, value) {
        case (.text, .string(let text)):
            if text.unicodeScalars.contains(where: { $0.value < 0x20 && !["\t", "\n", "\r"].contains($0) }) {
                return issue("no control characters")
            }
            return text.count <= 1_000 ? nil : issue("at most 1,000 characters")
        case (.number, .integer):
            return nil
        case (.number, .number(let number)):
            return number.isFinite ? nil : issue("a finite number")
        case (.date, .string(let text)):
            return CustomField.isDate(text) ? nil : issue("a date as YYYY-MM-DD")
        case (.select, .string(let choice)):
            return options.contains(choice)
                ? nil : issue("one of \(options.joined(separator: ", "))")
        case (.boolean, .bool):
            return nil
        default:
            let expected =
                switch kind {
                case .text: "a string"
                case .number: "a number"
                case .date: "a date as YYYY-MM-DD"
                case .select: "one of \(options.joined(separator: ", "))"
                case .boolean: "true or false"
                }
            return FieldIssue(field: field, code: "invalid_type", message: expected)
        }
    }

    /// A calendar date `YYYY-MM-DD` that exists.
    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }
}
