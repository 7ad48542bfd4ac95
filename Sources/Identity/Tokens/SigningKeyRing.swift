import Crypto
import Foundation
import Kernel
import Platform
import SQLKit
import Synchronization

/// The installation's ES256 signing keys, stored in `identity_signing_keys` and cached in memory.
///
/// Rotation publishes before it signs: a new key is written with an activation time `activationDelay` ahead
/// (longer than the cache refresh interval), so every instance lists it in its JWKS before any instance signs with
/// it; the previous key keeps signing until then and stays published for `retention` afterwards, so the tokens it
/// signed verify until they expire. Each instance reloads the table every `refreshInterval`, and at once (at most
/// every few seconds) when a token names an unknown key id.
///
/// Private keys are stored sealed with the installation's secrets key (`IdentitySecrets.signingKey`).
package final class SigningKeyRing: Sendable {
    package struct Key: Sendable {
        let kid: String
        let privateKey: P256.Signing.PrivateKey
        let activatesAt: Date
        let retiredAt: Date?
    }

    private struct State {
        var keys: [Key] = []
        var loadedAt: Date?
    }

    private let database: any Database
    private let secrets: SecretBox
    private let clock: any WallClock
    private let retention: TimeInterval
    static let refreshInterval: TimeInterval = 60
    /// Two refresh intervals: every instance has reloaded at least once before a new key signs.
    package static let activationDelay: TimeInterval = 2 * refreshInterval
    private let state = Mutex(State())

    /// `retention`: how long a retired key stays published (at least the longest token lifetime).
    package init(database: any Database, secrets: SecretBox, clock: any WallClock, retention: TimeInterval) {
        self.database = database
        self.secrets = secrets
        self.clock = clock
        self.retention = retention
    }

    /// The key to sign with now, creating the installation's first key if there is none.
    func signingKey() async throws -> Key {
        if let key = cachedSigningKey(maxAge: Self.refreshInterval) { return key }
        try await reload()
        if let key = cachedSigningKey(maxAge: .infinity) { return key }
        _ = try await create(activatesAt: clock.now(), retiringOthersAt: nil)
        try await reload()
        guard let key = cachedSigningKey(maxAge: .infinity) else { throw SigningKeyError.noKey }
        return key
    }

    /// The public key for `kid` if it is published.
    func publicKey(kid: String) async throws -> P256.Signing.PublicKey? {
        let now = clock.now()
        let (cached, loadedAt) = state.withLock { state in
            (state.keys.first { $0.kid == kid }, state.loadedAt)
        }
        if let cached, isPublished(cached, now: now) { return cached.privateKey.publicKey }
        // An unknown kid may be a key another instance just created; reload, but not on every forged token.
        if let loadedAt, now.timeIntervalSince(loadedAt) < 5 { return nil }
        try await reload()
        return state.withLock { state in state.keys.first { $0.kid == kid } }
            .flatMap { isPublished($0, now: now) ? $0.privateKey.publicKey : nil }
    }

    /// The JWKS document: every published key, including one that will sign soon.
    package func keySet() async throws -> JSONWebKeySet {
        _ = try await signingKey()
        let now = clock.now()
        let keys = state.withLock { $0.keys }.filter { isPublished($0, now: now) }
        return JSONWebKeySet(keys: keys.map { JSONWebKey(publicKey: $0.privateKey.publicKey, keyID: $0.kid) })
    }

    /// Creates a new signing key that starts signing after `activationDelay` (or at once when `immediately`, for
    /// a key that must stop signing now); the current key signs until then and stays published for `retention`
    /// afterwards. Keys retired longer ago than that are deleted. Returns the new key id and when it signs.
    @discardableResult
    package func rotate(immediately: Bool = false) async throws -> (kid: String, activatesAt: Date) {
        let activation = clock.now().addingTimeInterval(immediately ? 0 : Self.activationDelay)
        let kid = try await create(activatesAt: activation, retiringOthersAt: activation)
        try await reload()
        return (kid, activation)
    }

    private func create(activatesAt: Date, retiringOthersAt retirement: Date?) async throws -> String {
        let key = P256.Signing.PrivateKey()
        let kid = Self.thumbprint(key.publicKey)
        let now = clock.now().epochMilliseconds
        let cutoff = now - Int64(retention * 1000)
        let pem = try secrets.seal(key.pemRepresentation, in: IdentitySecrets.signingKey, tenant: nil)
        try await database.system { tx in
            if let retirement {
                try await tx.sql.raw(
                    """
                    UPDATE identity_signing_keys SET retired_at = \(bind: retirement.epochMilliseconds)
                    WHERE retired_at IS NULL
                    """
                ).run()
                try await tx.sql.raw(
                    "DELETE FROM identity_signing_keys WHERE retired_at IS NOT NULL AND retired_at < \(bind: cutoff)"
                ).run()
            }
            try await tx.sql.raw(
                """
                INSERT INTO identity_signing_keys (kid, private_key, created_at, activates_at, retired_at)
                VALUES (\(bind: kid), \(bind: pem), \(bind: now), \(bind: activatesAt.epochMilliseconds), NULL)
                """
            ).run()
        }
        return kid
    }

    private func reload() async throws {
        let rows = try await database.systemRead { tx in
            try await tx.sql.raw("SELECT kid, private_key, activates_at, retired_at FROM identity_signing_keys").all()
        }
        let secrets = secrets
        let keys = try rows.map { row in
            Key(
                kid: try row.decode(column: "kid", as: String.self),
                privateKey: try P256.Signing.PrivateKey(
                    pemRepresentation: try secrets.open(
                        try row.decode(column: "private_key", as: String.self), in: IdentitySecrets.signingKey,
                        tenant: nil)),
                activatesAt: Date(epochMilliseconds: try row.decode(column: "activates_at", as: Int64.self)),
                retiredAt: try row.decode(column: "retired_at", as: Int64?.self).map(Date.init(epochMilliseconds:)))
        }
        let now = clock.now()
        state.withLock { state in
            state.keys = keys.sorted { $0.activatesAt > $1.activatesAt }
            state.loadedAt = now
        }
    }

    /// The newest key that is active now, from a cache no older than `maxAge`.
    private func cachedSigningKey(maxAge: TimeInterval) -> Key? {
        let now = clock.now()
        return state.withLock { state -> Key? in
            guard let loadedAt = state.loadedAt, now.timeIntervalSince(loadedAt) < maxAge else { return nil }
            return state.keys.first { $0.activatesAt <= now && ($0.retiredAt.map { now < $0 } ?? true) }
        }
    }

    private func isPublished(_ key: Key, now: Date) -> Bool {
        guard let retiredAt = key.retiredAt else { return true }
        return now.timeIntervalSince(retiredAt) < retention
    }

    /// The RFC 7638 JWK thumbprint: a key id that is stable and derived from the key itself.
    static func thumbprint(_ key: P256.Signing.PublicKey) -> String {
        let jwk = JSONWebKey(publicKey: key, keyID: "")
        let canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(jwk.x)\",\"y\":\"\(jwk.y)\"}"
        return Base64URL.encode(SHA256.hash(data: Data(canonical.utf8)))
    }
}

enum SigningKeyError: Error {
    case noKey
}
