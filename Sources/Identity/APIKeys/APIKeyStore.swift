import Foundation
import Kernel
import Platform
import SQLKit

/// `identity_api_keys`, plus the credential index entry that finds a key's tenant from its hash.
struct APIKeyStore: Sendable {
    /// Creates a key and returns it with its secret (the only time the secret exists outside the client).
    func create(
        name: String, permissions: [Permission], expiresAt: Date?, createdBy: String?, now: Date, in tx: Transaction
    ) async throws -> (key: APIKey, secret: String) {
        let tenant = try tx.requireTenant()
        let secret = APIKey.secretPrefix + Base64URL.randomToken()
        let hash = SessionStore.hash(secret)
        let now = Date(epochMilliseconds: now.epochMilliseconds)
        let key = APIKey(
            id: .generate(), name: name, prefix: String(secret.prefix(12)),
            permissions: permissions.sorted { $0.description < $1.description },
            createdBy: createdBy, createdAt: now,
            expiresAt: expiresAt.map { Date(epochMilliseconds: $0.epochMilliseconds) },
            lastUsedAt: nil, revokedAt: nil)
        try await tx.sql.raw(
            """
            INSERT INTO identity_api_keys (tenant_id, id, name, prefix, key_hash, permissions, created_by, created_at,
                                           expires_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(key.id.rawValue)), \(bind: name), \(bind: key.prefix), \(bind: hash),
                    \(bind: RoleStore.encode(permissions)), \(bind: createdBy), \(bind: now.epochMilliseconds),
                    \(bind: key.expiresAt?.epochMilliseconds))
            """
        ).run()
        try await CredentialIndex().insert(hash: hash, kind: "api_key", in: tx)
        return (key, secret)
    }

    func find(id: ID<APIKey>, in tx: Transaction) async throws -> APIKey? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_api_keys WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    func find(hash: String, in tx: Transaction) async throws -> APIKey? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM identity_api_keys WHERE tenant_id = \(tx.bind(tenant)) AND key_hash = \(bind: hash)"
        ).first().map(Self.decode)
    }

    /// Keys newest first, `limit` at a time before `before`; revoked keys only when asked.
    func list(limit: Int, before: ID<APIKey>?, includeRevoked: Bool, in tx: Transaction) async throws -> [APIKey] {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM identity_api_keys WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        if !includeRevoked { query.appendInterpolation(unsafeRaw: " AND revoked_at IS NULL") }
        if let before {
            query.appendInterpolation(unsafeRaw: " AND id < ")
            query.appendInterpolation(tx.bind(before.rawValue))
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    /// Revokes a key; false when it was already revoked or does not exist.
    func revoke(id: ID<APIKey>, now: Date, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE identity_api_keys SET revoked_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue)) AND revoked_at IS NULL
            RETURNING id
            """
        ).first() != nil
    }

    func touch(id: ID<APIKey>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_api_keys SET last_used_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    static func decode(_ row: any SQLRow) throws -> APIKey {
        let permissions = try JSONDecoder().decode(
            [Permission].self, from: Data(try row.decode(column: "permissions", as: String.self).utf8))
        return APIKey(
            id: ID(try row.decodeUUID(column: "id")),
            name: try row.decode(column: "name", as: String.self),
            prefix: try row.decode(column: "prefix", as: String.self), permissions: permissions,
            createdBy: try row.decode(column: "created_by", as: String?.self),
            createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            lastUsedAt: try row.decode(column: "last_used_at", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Date.init(epochMilliseconds:)))
    }
}
