import Foundation

/// A domain event as a CloudEvents 1.0 JSON envelope with the `tenantid` and `traceparent` extensions.
public struct EventEnvelope: Hashable, Sendable, Codable {
    public let specversion: String
    public let id: String
    public let source: String
    public let type: String
    public let time: String
    public let subject: String?
    public let datacontenttype: String
    public let tenantid: String
    public let traceparent: String?
    /// The event payload as a JSON document (kept as bytes so the envelope stays `Sendable` and exact).
    public let data: JSONDocument

    public init(
        id: UUID = UUID.v7(), source: String, type: String, time: Date = Date(), subject: String?,
        tenant: TenantID, traceparent: String?, data: JSONDocument
    ) {
        self.specversion = "1.0"
        self.id = id.lowercasedString
        self.source = source
        self.type = type
        self.time = RFC3339.string(from: time)
        self.subject = subject
        self.datacontenttype = "application/json"
        self.tenantid = tenant.description
        self.traceparent = traceparent
        self.data = data
    }
}

/// Raw JSON text carried inside another Codable value without re-parsing into untyped dictionaries.
public struct JSONDocument: Hashable, Sendable, Codable {
    public let text: String

    /// Encodes `value` with snake_case-stable, sorted keys.
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        self.text = try value.encodedText()
    }

    public func encode(to encoder: any Encoder) throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        try value.encode(to: encoder)
    }
}

/// A JSON value tree, used only to carry opaque JSON through Codable.
public enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    /// Whole numbers stay exact (money in minor units can exceed what a Double holds exactly).
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    func encodedText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
