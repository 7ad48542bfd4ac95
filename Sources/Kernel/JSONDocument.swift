import Foundation

/// Raw JSON text carried inside another Codable value without re-parsing into untyped dictionaries.
package struct JSONDocument: Hashable, Sendable, Codable {
    package let text: String

    /// Encodes `value` with snake_case-stable, sorted keys.
    package init(encoding value: some Encodable) throws {
        // A value that writes its own text (records) gives the same text without `JSONEncoder`.
        if let writable = value as? any JSONWritable {
            self.text = String(decoding: try writable.jsonBytes(capacity: 512), as: UTF8.self)
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Text already known to be one JSON document (read back from a JSON column).
    package init(unchecked text: String) {
        self.text = text
    }

    package init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        self.text = try value.encodedText()
    }

    package func encode(to encoder: any Encoder) throws {
        try JSONValue(parsing: text).encode(to: encoder)
    }
}
