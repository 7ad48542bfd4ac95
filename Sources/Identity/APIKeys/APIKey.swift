import Foundation
import Kernel

/// A machine credential of a tenant: scoped to permissions, optionally expiring, revocable. Only its SHA-256 is
/// stored; the secret (`inop_` + 43 characters) is shown once, when it is created.
package struct APIKey: Sendable, Equatable, Encodable {
    package let id: ID<APIKey>
    package var name: String
    /// The first characters of the secret, so a leaked key found in a log can be recognised in the list.
    package let prefix: String
    package let permissions: [Permission]
    package let createdBy: String?
    package let createdAt: Date
    package let expiresAt: Date?
    package var lastUsedAt: Date?
    package var revokedAt: Date?

    static let secretPrefix = "inop_"

    func isUsable(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, permissions
        case createdBy = "created_by"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at"
    }

    /// Written out so absent values are explicit `null`s (synthesized coding would omit them) and times are RFC 3339.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(prefix, forKey: .prefix)
        try container.encode(permissions.map(\.description).sorted(), forKey: .permissions)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(expiresAt.map(RFC3339.string(from:)), forKey: .expiresAt)
        try container.encode(lastUsedAt.map(RFC3339.string(from:)), forKey: .lastUsedAt)
        try container.encode(revokedAt.map(RFC3339.string(from:)), forKey: .revokedAt)
    }
}
