import Foundation
import Kernel

/// A list of one kind of record as a user saved it: a name and the list's query (`status=new&sort=-score`).
/// Each user has their own; a shared one shows to everyone of the tenant, and only its owner changes it.
package struct SavedView: Sendable, Equatable, Encodable {
    package let id: ID<SavedView>
    package let ownerID: String
    package let entity: CustomField.Entity
    package var name: String
    package var query: String
    package var shared: Bool
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    /// At most this many views per user and kind of record.
    package static let maxPerUser = 50

    enum CodingKeys: String, CodingKey {
        case id, entity, name, query, shared, version
        case ownerID = "owner_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(ownerID, forKey: .ownerID)
        try container.encode(entity, forKey: .entity)
        try container.encode(name, forKey: .name)
        try container.encode(query, forKey: .query)
        try container.encode(shared, forKey: .shared)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }

    package var fields: [String: JSONValue] {
        ["name": .string(name), "query": .string(query), "shared": .bool(shared), "entity": .string(entity.rawValue)]
    }
}
