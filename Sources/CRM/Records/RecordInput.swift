import Foundation
import Kernel
import Platform

/// Reads one CRM record's JSON body with merge-patch semantics (RFC 7396): a field that is absent keeps its
/// value (`.none`), `null` clears it (`.some(nil)`), and `custom_fields` is merged key by key. Every problem is
/// collected in `validation`, so one 422 names them all.
struct RecordInput {
    let fields: [String: JSONValue]
    var validation = Validation()
    static let maxTags = 20

    init(_ fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// The body as an object; 400 for another JSON value or for fields not in `allowed`.
    static func object(_ body: JSONValue, allowed: Set<String>) throws -> [String: JSONValue] {
        guard case .object(let fields) = body else {
            throw Problem(status: .badRequest, title: "Invalid request body", detail: "the body must be a JSON object")
        }
        let unknown = Set(fields.keys).subtracting(allowed).sorted()
        guard unknown.isEmpty else {
            throw Problem(
                status: .badRequest, title: "Invalid request body",
                detail: "unknown field(s) \(unknown.joined(separator: ", "))",
                errors: unknown.map {
                    FieldIssue(field: $0, code: "unknown_field", message: "is not a field of this resource")
                })
        }
        return fields
    }

    mutating func issue(_ field: String, _ code: String, _ message: String) {
        validation.add(FieldIssue(field: field, code: code, message: message))
    }

    /// A text field: `nil` for null or blank, else trimmed and at most `max` characters.
    mutating func text(_ name: String, max: Int) -> String?? {
        guard let value = fields[name] else { return .none }
        switch value {
        case .null: return .some(nil)
        case .string(let raw):
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.count > max { issue(name, "invalid_length", "at most \(max) characters") }
            // Control characters other than tab and line breaks (PostgreSQL refuses NUL in text, too).
            if trimmed.unicodeScalars.contains(where: {
                $0.value < 0x20 && !["\t", "\n", "\r"].contains($0) || $0.value == 0x7F
            }) {
                issue(name, "invalid_value", "no control characters")
                return .none
            }
            return .some(trimmed.isEmpty ? nil : trimmed)
        default:
            issue(name, "invalid_type", "a string or null")
            return .none
        }
    }

    /// An email address (its address part, as sent).
    mutating func email(_ name: String = "email") -> String?? {
        guard case .some(let value) = text(name, max: 254) else { return .none }
        guard let value else { return .some(nil) }
        guard let address = Check.email(value, field: name, into: &validation) else { return .none }
        return .some(address.address)
    }

    /// A phone number in E.164 form.
    mutating func phone(_ name: String = "phone") -> String?? {
        guard case .some(let value) = text(name, max: 40) else { return .none }
        guard let value else { return .some(nil) }
        guard let number = PhoneNumber.e164(value) else {
            issue(name, "invalid_format", "an international number in E.164 form, such as +4930123456")
            return .none
        }
        return .some(number)
    }

    /// A record id (a UUID), lower-cased.
    mutating func id(_ name: String, message: String) -> String?? {
        guard let value = fields[name] else { return .none }
        switch value {
        case .null: return .some(nil)
        case .string(let id) where UUID(uuidString: id) != nil: return .some(id.lowercased())
        default:
            issue(name, "invalid_format", message)
            return .none
        }
    }

    /// A whole number in `range`.
    mutating func integer(_ name: String, in range: ClosedRange<Int64>) -> Int?? {
        guard let value = fields[name] else { return .none }
        switch value {
        case .null: return .some(nil)
        case .integer(let number) where range.contains(number): return .some(Int(number))
        default:
            issue(name, "out_of_range", "a whole number from \(range.lowerBound) to \(range.upperBound)")
            return .none
        }
    }

    /// Tags: at most 20, each 1 to 50 characters, kept lower-case, each once, in the given order.
    mutating func tags(_ name: String = "tags") -> [String]? {
        guard let value = fields[name] else { return nil }
        guard case .array(let items) = value else {
            issue(name, "invalid_type", "an array of strings")
            return nil
        }
        var tags: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let raw) = item else {
                issue("\(name)[\(index)]", "invalid_type", "a string")
                continue
            }
            let tag = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            if tag.isEmpty || tag.count > 50 {
                issue("\(name)[\(index)]", "invalid_length", "1 to 50 characters")
            } else if !tags.contains(tag) {
                tags.append(tag)
            }
        }
        if tags.count > Self.maxTags { issue(name, "too_many", "at most \(Self.maxTags) tags") }
        return tags
    }

    /// Merges `custom_fields` into `stored`: each key must be one of `definitions` and its value of the field's
    /// type; `null` removes the key.
    mutating func customFields(into stored: inout [String: JSONValue], definitions: [CustomField]) {
        guard let value = fields["custom_fields"] else { return }
        guard case .object(let entries) = value else {
            issue("custom_fields", "invalid_type", "an object")
            return
        }
        for (key, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let field = "custom_fields.\(key)"
            guard let definition = definitions.first(where: { $0.key == key }) else {
                issue(field, "unknown_field", "no custom field has this key")
                continue
            }
            if entry == .null {
                stored[key] = nil
            } else if let problem = definition.check(entry, field: field) {
                validation.add(problem)
            } else {
                stored[key] = entry
            }
        }
    }
}
