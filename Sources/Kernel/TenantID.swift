import Foundation

/// The identity of a tenant (one company). Every tenant-owned row and every repository call carries one.
package struct TenantID: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID

    package init(_ rawValue: UUID) { self.rawValue = rawValue }

    /// Parses the canonical text form; `nil` when it is not a UUID.
    package init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.rawValue = uuid
    }

    /// A new, time-ordered tenant id.
    package static func generate() -> TenantID { TenantID(UUID.v7()) }

    package var description: String { rawValue.lowercasedString }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a UUID")
        }
        self.rawValue = uuid
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
