import Foundation

/// A typed identifier: `ID<Lead>` and `ID<Deal>` cannot be mixed up although both are UUIDv7 underneath.
package struct ID<Entity>: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID

    package init(_ rawValue: UUID) { self.rawValue = rawValue }

    package init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.rawValue = uuid
    }

    package static func generate() -> ID<Entity> { ID(UUID.v7()) }

    package var description: String { rawValue.lowercasedString }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let uuid = UUID(uuidString: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a UUID")
        }
        self.rawValue = uuid
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
