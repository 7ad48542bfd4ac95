import Crypto
import CryptoExtras
import Foundation

/// A public key from another issuer's JWKS, of the types OpenID providers publish (EC P-256 for ES256, RSA for
/// RS256: Keycloak, Entra ID and Google sign with these); only what signature verification needs.
package struct VerificationKey: Decodable, Sendable {
    package let kty: String
    package let kid: String?
    let crv: String?
    let x: String?
    let y: String?
    let n: String?
    let e: String?

    /// Whether `signature` over `data` verifies with this key under `alg`; other algorithms never verify.
    package func verifies(signature: Data, of data: Data, alg: String) -> Bool {
        switch (alg, kty) {
        case ("ES256", "EC"):
            guard crv == "P-256", let x = x.flatMap(Base64URL.decode), let y = y.flatMap(Base64URL.decode),
                let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y),
                let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(ecdsa, for: data)
        case ("RS256", "RSA"):
            guard let n = n.flatMap(Base64URL.decode), let e = e.flatMap(Base64URL.decode),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048
            else { return false }
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: data),
                padding: .insecurePKCS1v1_5)
        default:
            return false
        }
    }

    /// A JWKS document of such keys.
    package struct Set: Decodable, Sendable {
        package let keys: [VerificationKey]
    }

    /// Verifies a compact JWS against candidate keys (those with its `kid`, or all when it names none) and
    /// returns its header algorithm's payload. Only ES256 and RS256 are accepted.
    package static func verify(_ token: String, keys: [VerificationKey]) -> (kid: String?, payload: Data)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2]),
            let header = try? JSONDecoder().decode(JOSEHeader.self, from: headerData)
        else { return nil }
        let candidates = keys.filter { header.kid == nil || $0.kid == header.kid }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        guard candidates.contains(where: { $0.verifies(signature: signature, of: signed, alg: header.alg) }) else {
            return nil
        }
        return (header.kid, payload)
    }

    /// The header fields verification reads.
    package struct JOSEHeader: Decodable, Sendable {
        package let alg: String
        package let kid: String?
    }
}
