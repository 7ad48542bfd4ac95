/// The one rule for text that reaches a store: no NUL character. PostgreSQL refuses it in `text` and `jsonb`
/// (`22021`), SQLite would keep it and cut it off in C string functions, so both databases answer the same only
/// when it is refused before any SQL, by the HTTP layer that reads the body.
package enum StorableText {
    /// Whether `text` holds a NUL character.
    package static func hasNUL(_ text: String) -> Bool {
        text.utf8.contains(0)
    }

    /// Every place in `value` where a string or an object's key holds NUL, as validation issues naming the field
    /// (`name`, `tags[2]`, `address.city`); empty when there is none.
    package static func issues(in value: JSONValue) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        collect(value, path: "", into: &issues)
        return issues
    }

    private static func collect(_ value: JSONValue, path: String, into issues: inout [FieldIssue]) {
        switch value {
        case .string(let text) where hasNUL(text):
            issues.append(issue(field: path.isEmpty ? "body" : path))
        case .array(let items):
            for (index, item) in items.enumerated() { collect(item, path: "\(path)[\(index)]", into: &issues) }
        case .object(let fields):
            for (key, item) in fields.sorted(by: { $0.key < $1.key }) {
                let field = path.isEmpty ? key : "\(path).\(key)"
                if hasNUL(key) {
                    issues.append(issue(field: field))
                } else {
                    collect(item, path: field, into: &issues)
                }
            }
        default:
            break
        }
    }

    /// The issue for one field that holds NUL; a NUL in the field's own name is written `\u0000`.
    package static func issue(field: String) -> FieldIssue {
        FieldIssue(
            field: field.replacing("\u{0}", with: "\\u0000"), code: "invalid_character",
            message: "may not contain the NUL character (\\u0000)")
    }
}
