import Foundation

/// Writes JSON text straight into bytes, for the answers the API sends most (pages of records): Foundation's
/// `JSONEncoder` builds a tree of boxed values and sorts every object's keys, which cost more than the database
/// query on a page of 50 leads (BENCHMARKS.md, "CRM"). The text is the same as `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes for the same values, provided objects list their fields in key order
/// (`JSONObject`); tests compare the two.
package struct JSONWriter: Sendable {
    package internal(set) var bytes: [UInt8]

    package init(capacity: Int = 4096) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Text that needs no escaping (punctuation and keys known when compiling).
    package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Text that is already one JSON document (a `JSONDocument`'s), copied in as it is.
    package mutating func rawJSON(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    package mutating func null() { bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    package mutating func bool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    package mutating func integer(_ value: some BinaryInteger) {
        if value == 0 { return bytes.append(0x30) }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(0x2D) }
        let start = bytes.count
        while magnitude > 0 {
            bytes.append(0x30 + UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
        }
        bytes[start...].reverse()
    }

    /// As `JSONEncoder` writes a `Double`: whole numbers without a fraction, others in Swift's shortest form;
    /// `null` for what JSON cannot hold (infinities, NaN), where `JSONEncoder` would throw.
    package mutating func number(_ value: Double) {
        guard value.isFinite else { return null() }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// A JSON string: `"`, `\` and control characters escaped (as `JSONEncoder` does), `/` and all else as is.
    package mutating func string(_ value: String) {
        bytes.append(0x22)
        var value = value
        value.withUTF8 { utf8 in
            var plainFrom = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainFrom..<index]))
                plainFrom = index + 1
                switch byte {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
                case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                default:
                    let hex = HexDigits.lowercase
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainFrom...]))
        }
        bytes.append(0x22)
    }

    package mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// A JSON value; objects in key order.
    package mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .integer(let number): integer(number)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                self.value(item)
            }
            bytes.append(0x5D)
        case .object(let members): object(members)
        }
    }

    package mutating func object(_ members: [String: JSONValue]) {
        bytes.append(0x7B)
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { bytes.append(0x2C) }
            string(key)
            bytes.append(0x3A)
            value(members[key] ?? .null)
        }
        bytes.append(0x7D)
    }

    package mutating func strings(_ items: [String]) {
        bytes.append(0x5B)
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            string(item)
        }
        bytes.append(0x5D)
    }

    /// An object whose fields `body` writes (`JSONObjectWriter.field`, in key order).
    package mutating func object(_ body: (inout JSONObjectWriter) throws -> Void) rethrows {
        // The bytes move into `fields` (so appending does not copy them) and back; a throwing `body` leaves this
        // writer empty, its text unfinished anyway.
        var fields = JSONObjectWriter(writer: self)
        bytes = []
        fields.writer.bytes.append(0x7B)
        try body(&fields)
        fields.writer.bytes.append(0x7D)
        self = fields.writer
    }
}

/// A value that writes its JSON text itself (`JSONResponse` prefers this to `Encodable`).
package protocol JSONWritable {
    func write(to writer: inout JSONWriter) throws
}

extension JSONWritable {
    /// The value's JSON text.
    package func jsonBytes(capacity: Int = 4096) throws -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        try write(to: &writer)
        return writer.bytes
    }
}

/// Where an object's fields go: JSON text (`JSONObjectWriter`) or a `Codable` encoder (`EncoderFields`). An object
/// names its fields once (`JSONObject.writeFields`) for both.
package protocol JSONFields {
    mutating func field(_ key: String, _ value: String?) throws
    mutating func field(_ key: String, _ value: Int?) throws
    mutating func field(_ key: String, _ value: Int64?) throws
    mutating func field(_ key: String, _ value: Bool?) throws
    mutating func field(_ key: String, _ value: [String]) throws
    mutating func field(_ key: String, _ value: [String: JSONValue]) throws
    /// RFC 3339 text (`RFC3339`), or null.
    mutating func field(_ key: String, date value: Date?) throws
    mutating func field(_ key: String, object value: some JSONObject) throws
}

extension JSONFields {
    /// A typed id as its text, or null.
    package mutating func field<Entity>(_ key: String, _ value: ID<Entity>?) throws {
        try field(key, value?.description)
    }
}

/// An object whose fields are written in one place for both JSON text and `Codable` (its `encode(to:)`).
package protocol JSONObject: Encodable, JSONWritable {
    /// Every field, in the order of their keys (JSON text is written in this order, as `.sortedKeys` would).
    func writeFields(to fields: inout some JSONFields) throws
}

extension JSONObject {
    package func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

    /// `writeFields` into a `Codable` encoder (what `encode(to:)` does; for types that also decode, whose
    /// `encode(to:)` would otherwise be synthesized).
    package func encodeFields(to encoder: any Encoder) throws {
        var fields = EncoderFields(container: encoder.container(keyedBy: JSONKey.self))
        try writeFields(to: &fields)
    }

    package func write(to writer: inout JSONWriter) throws {
        try writer.object { fields in try writeFields(to: &fields) }
    }
}

/// The fields of one object being written as JSON text.
package struct JSONObjectWriter: JSONFields {
    var writer: JSONWriter
    private var first = true

    init(writer: JSONWriter) { self.writer = writer }

    private mutating func key(_ key: String) {
        if first { first = false } else { writer.bytes.append(0x2C) }
        writer.string(key)
        writer.bytes.append(0x3A)
    }

    package mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        writer.string(value)
    }

    package mutating func field(_ key: String, _ value: Int?) {
        self.key(key)
        if let value { writer.integer(value) } else { writer.null() }
    }

    package mutating func field(_ key: String, _ value: Int64?) {
        self.key(key)
        if let value { writer.integer(value) } else { writer.null() }
    }

    package mutating func field(_ key: String, _ value: Bool?) {
        self.key(key)
        if let value { writer.bool(value) } else { writer.null() }
    }

    package mutating func field(_ key: String, _ value: [String]) {
        self.key(key)
        writer.strings(value)
    }

    package mutating func field(_ key: String, _ value: [String: JSONValue]) {
        self.key(key)
        writer.object(value)
    }

    package mutating func field(_ key: String, date value: Date?) {
        self.key(key)
        writer.string(value.map(RFC3339.string(from:)))
    }

    package mutating func field(_ key: String, object value: some JSONObject) throws {
        self.key(key)
        try value.write(to: &writer)
    }
}

/// The fields of one object going to a `Codable` encoder.
struct EncoderFields: JSONFields {
    var container: KeyedEncodingContainer<JSONKey>

    mutating func field(_ key: String, _ value: String?) throws { try container.encode(value, forKey: JSONKey(key)) }
    mutating func field(_ key: String, _ value: Int?) throws { try container.encode(value, forKey: JSONKey(key)) }
    mutating func field(_ key: String, _ value: Int64?) throws { try container.encode(value, forKey: JSONKey(key)) }
    mutating func field(_ key: String, _ value: Bool?) throws { try container.encode(value, forKey: JSONKey(key)) }
    mutating func field(_ key: String, _ value: [String]) throws { try container.encode(value, forKey: JSONKey(key)) }
    mutating func field(_ key: String, _ value: [String: JSONValue]) throws {
        try container.encode(value, forKey: JSONKey(key))
    }
    mutating func field(_ key: String, date value: Date?) throws {
        try container.encode(value.map(RFC3339.string(from:)), forKey: JSONKey(key))
    }
    mutating func field(_ key: String, object value: some JSONObject) throws {
        try container.encode(value, forKey: JSONKey(key))
    }
}

/// A coding key that is any string.
package struct JSONKey: CodingKey {
    package let stringValue: String
    package var intValue: Int? { nil }
    package init(_ key: String) { stringValue = key }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}
