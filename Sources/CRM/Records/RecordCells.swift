import Kernel

/// A record's values as one line of text each (CSV cells, table cells of the pages): lists joined with `;`,
/// objects as JSON.
enum RecordCells {
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: ""
        case .bool(let flag)?: flag ? "true" : "false"
        case .integer(let number)?: String(number)
        case .number(let number)?: String(number)
        case .string(let text)?: text
        case .array(let items)?: items.map { text($0) }.joined(separator: ";")
        case .object?: (try? JSONDocument.text(value)) ?? ""
        }
    }
}
