import Foundation
import Kernel
import Platform
import SQLKit

/// OAuth clients of a tenant, and the directory that finds a client's tenant from its id (the authorization
/// endpoint is reached before anyone has signed in).
struct OAuthClientStore: Sendable {
    func create(_ client: OAuthClient, secretHash: String?, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let encoder = JSONEncoder()
        func json(_ list: [String]) throws -> String { String(decoding: try encoder.encode(list), as: UTF8.self) }
        try await tx.sql.raw(
            """
            INSERT INTO identity_oauth_clients (tenant_id, client_id, name, client_type, secret_hash, redirect_uris,
                                                allowed_scopes, grant_types, created_by, created_at)
            VALUES (\(tx.bind(tenant)), \(bind: client.clientID), \(bind: client.name), \(bind: client.type.rawValue),
                    \(bind: secretHash), \(bind: try json(client.redirectURIs)), \(bind: try json(client.allowedScopes)),
                    \(bind: try json(client.grantTypes)), \(bind: client.createdBy),
                    \(bind: client.createdAt.epochMilliseconds))
            """
        ).run()
        try await tx.sql.raw(
            """
            INSERT INTO identity_client_directory (client_id, tenant_id) VALUES (\(bind: client.clientID), \(tx.bind(tenant)))
            """
        ).run()
    }

    /// The client (with its secret hash) if it exists and is not revoked.
    func find(clientID: String, in tx: Transaction) async throws -> (client: OAuthClient, secretHash: String?)? {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                """
                SELECT * FROM identity_oauth_clients
                WHERE tenant_id = \(tx.bind(tenant)) AND client_id = \(bind: clientID)
                """
            ).first()
        else { return nil }
        return (try Self.decode(row), try row.decode(column: "secret_hash", as: String?.self))
    }

    func list(includeRevoked: Bool, in tx: Transaction) async throws -> [OAuthClient] {
        let tenant = try tx.requireTenant()
        let rows = try await tx.sql.raw(
            """
            SELECT * FROM identity_oauth_clients WHERE tenant_id = \(tx.bind(tenant))
            \(unsafeRaw: includeRevoked ? "" : "AND revoked_at IS NULL") ORDER BY created_at, client_id
            """
        ).all()
        return try rows.map(Self.decode)
    }

    func revoke(clientID: String, now: Date, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE identity_oauth_clients SET revoked_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND client_id = \(bind: clientID) AND revoked_at IS NULL
            RETURNING client_id
            """
        ).first() != nil
    }

    /// The tenant a client id belongs to.
    static func tenant(of clientID: String, database: any Database) async throws -> TenantID? {
        try await database.systemRead { tx in
            try await tx.sql.raw(
                "SELECT tenant_id FROM identity_client_directory WHERE client_id = \(bind: clientID)"
            ).first().map { TenantID(try $0.decodeUUID(column: "tenant_id")) }
        }
    }

    static func decode(_ row: any SQLRow) throws -> OAuthClient {
        let decoder = JSONDecoder()
        func list(_ column: String) throws -> [String] {
            try decoder.decode([String].self, from: Data(try row.decode(column: column, as: String.self).utf8))
        }
        return OAuthClient(
            clientID: try row.decode(column: "client_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            type: OAuthClient.ClientType(rawValue: try row.decode(column: "client_type", as: String.self)) ?? .public,
            redirectURIs: try list("redirect_uris"), allowedScopes: try list("allowed_scopes"),
            grantTypes: try list("grant_types"), createdBy: try row.decode(column: "created_by", as: String?.self),
            createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Date.init(epochMilliseconds:)))
    }
}

/// Authorization codes: single-use, 60 seconds, bound to client, redirect URI and PKCE challenge.
struct AuthorizationCodeStore: Sendable {
    struct Grant: Sendable {
        let clientID: String
        let userID: ID<User>
        let redirectURI: String
        let scope: String
        let nonce: String?
        let codeChallenge: String
        let authTime: Date
        let expiresAt: Date
        let usedAt: Date?
        let sessionID: ID<Session>?
    }

    func insert(_ grant: Grant, now: Date, in tx: Transaction) async throws -> String {
        let tenant = try tx.requireTenant()
        let code = "inopc_" + Base64URL.randomToken()
        let hash = SessionStore.hash(code)
        try await tx.sql.raw(
            """
            INSERT INTO identity_authorization_codes (tenant_id, code_hash, client_id, user_id, redirect_uri, scope, nonce,
                                                      code_challenge, auth_time, expires_at)
            VALUES (\(tx.bind(tenant)), \(bind: hash), \(bind: grant.clientID), \(tx.bind(grant.userID.rawValue)),
                    \(bind: grant.redirectURI), \(bind: grant.scope), \(bind: grant.nonce), \(bind: grant.codeChallenge),
                    \(bind: grant.authTime.epochMilliseconds), \(bind: grant.expiresAt.epochMilliseconds))
            """
        ).run()
        try await CredentialIndex().insert(hash: hash, kind: "authorization_code", in: tx)
        return code
    }

    enum Redemption: Sendable {
        case fresh(Grant)
        /// The code was already exchanged: someone replays it.
        case reused(Grant)
        case unknown
    }

    /// Marks the code used, atomically: of two concurrent exchanges, one sees `reused`.
    func redeem(_ code: String, now: Date, in tx: Transaction) async throws -> Redemption {
        let tenant = try tx.requireTenant()
        let hash = SessionStore.hash(code)
        if let row = try await tx.sql.raw(
            """
            UPDATE identity_authorization_codes SET used_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND code_hash = \(bind: hash) AND used_at IS NULL
            RETURNING *
            """
        ).first() {
            return .fresh(try Self.decode(row))
        }
        guard
            let row = try await tx.sql.raw(
                """
                SELECT * FROM identity_authorization_codes WHERE tenant_id = \(tx.bind(tenant)) AND code_hash = \(bind: hash)
                """
            ).first()
        else { return .unknown }
        return .reused(try Self.decode(row))
    }

    static func decode(_ row: any SQLRow) throws -> Grant {
        return Grant(
            clientID: try row.decode(column: "client_id", as: String.self),
            userID: ID(try row.decodeUUID(column: "user_id")),
            redirectURI: try row.decode(column: "redirect_uri", as: String.self),
            scope: try row.decode(column: "scope", as: String.self),
            nonce: try row.decode(column: "nonce", as: String?.self),
            codeChallenge: try row.decode(column: "code_challenge", as: String.self),
            authTime: Date(epochMilliseconds: try row.decode(column: "auth_time", as: Int64.self)),
            expiresAt: Date(epochMilliseconds: try row.decode(column: "expires_at", as: Int64.self)),
            usedAt: try row.decode(column: "used_at", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            sessionID: try row.decodeOptionalUUID(column: "session_id").map(ID<Session>.init))
    }

    func attachSession(_ session: ID<Session>, toCode code: String, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_authorization_codes SET session_id = \(tx.bind(session.rawValue))
            WHERE tenant_id = \(tx.bind(tenant)) AND code_hash = \(bind: SessionStore.hash(code))
            """
        ).run()
    }
}
