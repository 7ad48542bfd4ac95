import Foundation
import Kernel

/// A person who signs in to one tenant. The same email in two tenants is two users.
package struct User: Sendable, Equatable {
    package enum Status: String, Sendable, Codable, CaseIterable {
        case active
        /// Invited, not yet accepted: cannot sign in, has no password.
        case invited
        /// Kept for the record; cannot sign in, its sessions and tokens are revoked.
        case deactivated
    }

    package let id: ID<User>
    package var email: String
    package var name: String
    package var status: Status
    package var roles: [String]
    package var emailVerifiedAt: Date?
    package var locale: String?
    package var timeZone: String?
    package var lastLoginAt: Date?
    package var mfaEnabled: Bool
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    /// The fields an admin sees change in the audit log.
    var auditSnapshot: [String: JSONValue] {
        [
            "email": .string(email), "name": .string(name), "status": .string(status.rawValue),
            "roles": .array(roles.sorted().map(JSONValue.string)), "locale": locale.map(JSONValue.string) ?? .null,
            "time_zone": timeZone.map(JSONValue.string) ?? .null,
        ]
    }
}

extension User: Encodable {
    enum CodingKeys: String, CodingKey {
        case id, email, name, status, roles, locale, version
        case emailVerified = "email_verified"
        case timeZone = "time_zone"
        case lastLoginAt = "last_login_at"
        case mfaEnabled = "mfa_enabled"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Written out so absent values are explicit `null`s (synthesized coding would omit them) and times are RFC 3339.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(roles.sorted(), forKey: .roles)
        try container.encode(emailVerifiedAt != nil, forKey: .emailVerified)
        try container.encode(locale, forKey: .locale)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(lastLoginAt.map(RFC3339.string(from:)), forKey: .lastLoginAt)
        try container.encode(mfaEnabled, forKey: .mfaEnabled)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }
}

/// What sign-in needs besides the public fields; never encoded.
struct UserCredentials: Sendable {
    var passwordHash: String?
    var failedLogins: Int
    var lastFailedAt: Date?
    var lockedUntil: Date?
    var totpSecret: String?
    var totpLastStep: Int64?
}
