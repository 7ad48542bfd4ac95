import Crypto
import Foundation
import Kernel
import Platform
import SQLKit

/// Sessions, their refresh tokens, and the index from a presented secret's hash to its tenant.
struct SessionStore: Sendable {
    /// What presenting a refresh token found.
    enum Claim: Sendable {
        /// The token was current; it is now used and a successor must be issued.
        case current(Session)
        /// The token had already been rotated: a copy is in someone else's hands.
        case reused(Session)
        case unknown
    }

    func create(
        userID: ID<User>, clientID: String?, scope: String, ip: String?, userAgent: String?, now: Date,
        lifetimes: TokenLifetimes, in tx: Transaction
    ) async throws -> Session {
        let tenant = try tx.requireTenant()
        let now = Date(epochMilliseconds: now.epochMilliseconds)
        let session = Session(
            id: .generate(), userID: userID, clientID: clientID, scope: scope, ip: ip,
            userAgent: userAgent.map { String($0.prefix(300)) }, createdAt: now, lastUsedAt: now,
            expiresAt: now.addingTimeInterval(lifetimes.sessionAbsolute), revokedAt: nil, revokedReason: nil)
        try await tx.sql.raw(
            """
            INSERT INTO identity_sessions (tenant_id, id, user_id, client_id, scope, ip, user_agent, created_at,
                                           last_used_at, expires_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(session.id.rawValue)), \(tx.bind(userID.rawValue)), \(bind: clientID),
                    \(bind: scope), \(bind: ip), \(bind: session.userAgent), \(bind: now.epochMilliseconds),
                    \(bind: now.epochMilliseconds), \(bind: session.expiresAt.epochMilliseconds))
            """
        ).run()
        return session
    }

    /// A new refresh token for `session`; only its hash is stored.
    func issueRefreshToken(for session: ID<Session>, now: Date, in tx: Transaction) async throws -> String {
        let tenant = try tx.requireTenant()
        let token = "inopr_" + Base64URL.randomToken()
        let hash = Self.hash(token)
        try await tx.sql.raw(
            """
            INSERT INTO identity_refresh_tokens (tenant_id, token_hash, session_id, issued_at)
            VALUES (\(tx.bind(tenant)), \(bind: hash), \(tx.bind(session.rawValue)), \(bind: now.epochMilliseconds))
            """
        ).run()
        try await CredentialIndex().insert(hash: hash, kind: "refresh_token", in: tx)
        return token
    }

    /// Marks the token as used (atomically: of two concurrent uses, one sees `reused`).
    func claim(refreshToken token: String, now: Date, in tx: Transaction) async throws -> Claim {
        let tenant = try tx.requireTenant()
        let hash = Self.hash(token)
        if let row = try await tx.sql.raw(
            """
            UPDATE identity_refresh_tokens SET used_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND token_hash = \(bind: hash) AND used_at IS NULL
            RETURNING session_id
            """
        ).first() {
            guard let session = try await find(id: ID(try row.decodeUUID(column: "session_id")), in: tx) else {
                return .unknown
            }
            return .current(session)
        }
        guard
            let row = try await tx.sql.raw(
                """
                SELECT session_id FROM identity_refresh_tokens
                WHERE tenant_id = \(tx.bind(tenant)) AND token_hash = \(bind: hash)
                """
            ).first(),
            let session = try await find(id: ID(try row.decodeUUID(column: "session_id")), in: tx)
        else { return .unknown }
        return .reused(session)
    }

    /// The session a refresh token (current or rotated) belongs to.
    func session(ofRefreshToken token: String, in tx: Transaction) async throws -> ID<Session>? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT session_id FROM identity_refresh_tokens
            WHERE tenant_id = \(tx.bind(tenant)) AND token_hash = \(bind: Self.hash(token))
            """
        ).first().map { ID(try $0.decodeUUID(column: "session_id")) }
    }

    /// Whether the refresh token has not been rotated yet.
    func isCurrent(refreshToken token: String, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT token_hash FROM identity_refresh_tokens
            WHERE tenant_id = \(tx.bind(tenant)) AND token_hash = \(bind: Self.hash(token)) AND used_at IS NULL
            """
        ).first() != nil
    }

    func touch(_ id: ID<Session>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_sessions SET last_used_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    /// Revokes one session and publishes its id to every verifier (`RevokedSessions`); returns false when it was
    /// already revoked or does not exist.
    @discardableResult
    func revoke(_ id: ID<Session>, reason: String, now: Date, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        let row = try await tx.sql.raw(
            """
            UPDATE identity_sessions SET revoked_at = \(bind: now.epochMilliseconds), revoked_reason = \(bind: reason)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue)) AND revoked_at IS NULL
            RETURNING id
            """
        ).first()
        let revoked = row != nil
        if revoked { try await RevokedSessions.publish([id.description], now: now, in: tx) }
        return revoked
    }

    /// Revokes every open session of a user (deactivation, password change) and publishes their ids; returns how
    /// many.
    @discardableResult
    func revokeAll(of user: ID<User>, except kept: ID<Session>? = nil, reason: String, now: Date, in tx: Transaction)
        async throws -> Int
    {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("UPDATE identity_sessions SET revoked_at = ")
        query.appendInterpolation(bind: now.epochMilliseconds)
        query.appendInterpolation(unsafeRaw: ", revoked_reason = ")
        query.appendInterpolation(bind: reason)
        query.appendInterpolation(unsafeRaw: " WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        query.appendInterpolation(unsafeRaw: " AND user_id = ")
        query.appendInterpolation(tx.bind(user.rawValue))
        query.appendInterpolation(unsafeRaw: " AND revoked_at IS NULL")
        if let kept {
            query.appendInterpolation(unsafeRaw: " AND id <> ")
            query.appendInterpolation(tx.bind(kept.rawValue))
        }
        query.appendInterpolation(unsafeRaw: " RETURNING id")
        let ids = try await tx.sql.raw(query).all().map { ID<Session>(try $0.decodeUUID(column: "id")) }
        try await RevokedSessions.publish(ids.map(\.description), now: now, in: tx)
        return ids.count
    }

    func find(id: ID<Session>, in tx: Transaction) async throws -> Session? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_sessions WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    /// Open sessions (not revoked, not past their absolute end), newest first, optionally of one user.
    func listOpen(user: ID<User>?, now: Date, limit: Int, before: ID<Session>?, in tx: Transaction) async throws
        -> [Session]
    {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM identity_sessions WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        query.appendInterpolation(unsafeRaw: " AND revoked_at IS NULL AND expires_at > ")
        query.appendInterpolation(bind: now.epochMilliseconds)
        if let user {
            query.appendInterpolation(unsafeRaw: " AND user_id = ")
            query.appendInterpolation(tx.bind(user.rawValue))
        }
        if let before {
            query.appendInterpolation(unsafeRaw: " AND id < ")
            query.appendInterpolation(tx.bind(before.rawValue))
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).lowercaseHex
    }

    static func decode(_ row: any SQLRow) throws -> Session {
        Session(
            id: ID(try row.decodeUUID(column: "id")),
            userID: ID(try row.decodeUUID(column: "user_id")),
            clientID: try row.decode(column: "client_id", as: String?.self),
            scope: try row.decode(column: "scope", as: String.self),
            ip: try row.decode(column: "ip", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            lastUsedAt: Date(epochMilliseconds: try row.decode(column: "last_used_at", as: Int64.self)),
            expiresAt: Date(epochMilliseconds: try row.decode(column: "expires_at", as: Int64.self)),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            revokedReason: try row.decode(column: "revoked_reason", as: String?.self))
    }
}

/// `identity_credentials`: which tenant a refresh token or API key belongs to, found by the secret's SHA-256
/// before any tenant transaction can start. Not tenant-owned (no row-level security) by design.
struct CredentialIndex: Sendable {
    let database: (any Database)?

    init(database: (any Database)? = nil) {
        self.database = database
    }

    func insert(hash: String, kind: String, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO identity_credentials (token_hash, tenant_id, kind)
            VALUES (\(bind: hash), \(tx.bind(tenant)), \(bind: kind))
            """
        ).run()
    }

    /// The tenant of the secret with this hash and kind, if any.
    func tenant(ofHash hash: String, kind: String) async throws -> TenantID? {
        guard let database else { return nil }
        return try await database.systemRead { tx in
            try await tx.sql.raw(
                "SELECT tenant_id FROM identity_credentials WHERE token_hash = \(bind: hash) AND kind = \(bind: kind)"
            ).first().map { TenantID(try $0.decodeUUID(column: "tenant_id")) }
        }
    }
}
