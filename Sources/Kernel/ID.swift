import Foundation

/// A typed identifier: `ID<Lead>` and `ID<Deal>` cannot be mixed up although both are UUIDv7 underneath.
/// Its JSON and database text form is the lower-case UUID.
package struct ID<Entity>: Hashable, Sendable, TextCodable {
    package let rawValue: UUID

    package init(_ rawValue: UUID) { self.rawValue = rawValue }

    /// Parses the canonical text form; `nil` when it is not a UUID.
    package init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.rawValue = uuid
    }

    /// A new, time-ordered id.
    package static func generate() -> ID<Entity> { ID(UUID.v7()) }

    package var description: String { rawValue.lowercasedString }
}
