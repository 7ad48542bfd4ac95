import Foundation
import Kernel

/// A sign-in: one refresh-token family. Every refresh rotates the token within the session; presenting a token
/// that was already rotated revokes the whole session (RFC 9700 §4.14.2, refresh token reuse detection).
package struct Session: Sendable, Equatable, Encodable {
    package let id: ID<Session>
    package let userID: ID<User>
    package let clientID: String?
    package let scope: String
    package let ip: String?
    package let userAgent: String?
    package let createdAt: Date
    package var lastUsedAt: Date
    /// The absolute end of the session, whatever its activity.
    package let expiresAt: Date
    package var revokedAt: Date?
    package var revokedReason: String?

    /// Usable at `now` given the idle timeout.
    func isActive(now: Date, idleTimeout: TimeInterval) -> Bool {
        revokedAt == nil && now < expiresAt && now.timeIntervalSince(lastUsedAt) < idleTimeout
    }

    enum CodingKeys: String, CodingKey {
        case id, scope, ip
        case userID = "user_id"
        case clientID = "client_id"
        case userAgent = "user_agent"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case revokedReason = "revoked_reason"
    }

    /// Written out so absent values are explicit `null`s (synthesized coding would omit them) and times are RFC 3339.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(userID, forKey: .userID)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(scope, forKey: .scope)
        try container.encode(ip, forKey: .ip)
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: lastUsedAt), forKey: .lastUsedAt)
        try container.encode(RFC3339.string(from: expiresAt), forKey: .expiresAt)
        try container.encode(revokedAt.map(RFC3339.string(from:)), forKey: .revokedAt)
        try container.encode(revokedReason, forKey: .revokedReason)
    }
}

/// Lifetimes of tokens and sessions (the defaults: Keycloak's are similar).
package struct TokenLifetimes: Sendable, Equatable {
    package var accessToken: TimeInterval = 15 * 60
    package var sessionIdle: TimeInterval = 120 * 60
    package var sessionAbsolute: TimeInterval = 7 * 24 * 3600

    package init() {}

    /// How long a retired signing key stays published: the longest token lifetime plus verifiers' clock leeway.
    package var signingKeyRetention: TimeInterval { accessToken + 5 * 60 }
}
