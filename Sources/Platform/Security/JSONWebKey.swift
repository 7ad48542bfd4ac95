import Crypto
import Foundation

/// A public P-256 signing key as a JWK (RFC 7517/7518), the form `/.well-known/jwks.json` publishes.
package struct JSONWebKey: Codable, Sendable, Equatable {
    package let kty: String
    package let crv: String
    package let x: String
    package let y: String
    package let kid: String
    package let use: String
    package let alg: String

    package init(publicKey: P256.Signing.PublicKey, keyID: String) {
        // x963 is 0x04 || X (32 bytes) || Y (32 bytes).
        let point = publicKey.x963Representation
        kty = "EC"
        crv = "P-256"
        x = Base64URL.encode(point[1..<33])
        y = Base64URL.encode(point[33..<65])
        kid = keyID
        use = "sig"
        alg = "ES256"
    }

    /// The key, or `nil` when this JWK is not a valid P-256 point.
    package var publicKey: P256.Signing.PublicKey? {
        guard kty == "EC", crv == "P-256", let x = Base64URL.decode(x), let y = Base64URL.decode(y),
            x.count == 32, y.count == 32
        else { return nil }
        return try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
    }
}

/// `{"keys": [...]}`.
package struct JSONWebKeySet: Codable, Sendable, Equatable {
    package let keys: [JSONWebKey]

    package init(keys: [JSONWebKey]) { self.keys = keys }

    /// The public key with this `kid`, if present and valid.
    package func key(id: String) -> P256.Signing.PublicKey? {
        keys.first { $0.kid == id }?.publicKey
    }
}
