import Foundation
import Kernel
import Platform
import SQLKit

/// Single-use, expiring tokens sent by email: invitations, password resets and email verifications. Only the
/// SHA-256 is stored, so the links in mailboxes are the only copies; the tenant is found through the credential
/// index, since the person following the link is not signed in.
struct ActionTokenStore: Sendable {
    enum Purpose: String, Sendable {
        case invitation
        case passwordReset = "password_reset"
        case emailVerification = "email_verification"

        var lifetime: TimeInterval {
            switch self {
            case .invitation: 7 * 24 * 3600
            case .passwordReset: 3600
            case .emailVerification: 3 * 24 * 3600
            }
        }

        /// Prefix of the token text, so a pasted token of the wrong kind is recognisable.
        var prefix: String {
            switch self {
            case .invitation: "inopi_"
            case .passwordReset: "inopw_"
            case .emailVerification: "inopv_"
            }
        }
    }

    /// A new token for `user`; earlier unused tokens of the same purpose stop working.
    func issue(_ purpose: Purpose, for user: ID<User>, now: Date, in tx: Transaction) async throws -> String {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_action_tokens SET used_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND user_id = \(tx.bind(user.rawValue))
              AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL
            """
        ).run()
        let token = purpose.prefix + Base64URL.randomToken()
        let hash = SessionStore.hash(token)
        try await tx.sql.raw(
            """
            INSERT INTO identity_action_tokens (tenant_id, token_hash, purpose, user_id, created_at, expires_at)
            VALUES (\(tx.bind(tenant)), \(bind: hash), \(bind: purpose.rawValue), \(tx.bind(user.rawValue)),
                    \(bind: now.epochMilliseconds), \(bind: now.addingTimeInterval(purpose.lifetime).epochMilliseconds))
            """
        ).run()
        try await CredentialIndex().insert(hash: hash, kind: "action_token", in: tx)
        return token
    }

    /// The tenant of a token, if it is one of ours.
    static func tenant(of token: String, database: any Database) async throws -> TenantID? {
        try await CredentialIndex(database: database).tenant(ofHash: SessionStore.hash(token), kind: "action_token")
    }

    /// Uses the token (atomically) and returns its user, when it has this purpose, is unused and unexpired.
    func consume(_ token: String, purpose: Purpose, now: Date, in tx: Transaction) async throws -> ID<User>? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE identity_action_tokens SET used_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND token_hash = \(bind: SessionStore.hash(token))
              AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL AND expires_at > \(bind: now.epochMilliseconds)
            RETURNING user_id
            """
        ).first().map { ID(try $0.decodeUUID(column: "user_id")) }
    }

    /// The user of a token that is still usable, without using it (to validate a form before consuming the link).
    func peek(_ token: String, purpose: Purpose, now: Date, in tx: Transaction) async throws -> ID<User>? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT user_id FROM identity_action_tokens
            WHERE tenant_id = \(tx.bind(tenant)) AND token_hash = \(bind: SessionStore.hash(token))
              AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL AND expires_at > \(bind: now.epochMilliseconds)
            """
        ).first().map { ID(try $0.decodeUUID(column: "user_id")) }
    }

    /// When the last token of this purpose was sent to the user (to refuse mail floods).
    func lastIssued(_ purpose: Purpose, for user: ID<User>, in tx: Transaction) async throws -> Date? {
        let tenant = try tx.requireTenant()
        let row = try await tx.sql.raw(
            """
            SELECT MAX(created_at) AS last FROM identity_action_tokens
            WHERE tenant_id = \(tx.bind(tenant)) AND user_id = \(tx.bind(user.rawValue)) AND purpose = \(bind: purpose.rawValue)
            """
        ).first()
        return try row?.decode(column: "last", as: Int64?.self).map(Date.init(epochMilliseconds:))
    }
}
