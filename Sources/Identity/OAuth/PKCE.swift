import Crypto
import Foundation
import Platform

/// Proof Key for Code Exchange (RFC 7636), S256 only: the plain method would let a stolen code be used.
enum PKCE {
    /// Whether `verifier` (43 to 128 unreserved characters) hashes to `challenge`.
    static func verify(verifier: String, challenge: String) -> Bool {
        let unreserved = verifier.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
        }
        guard unreserved, (43...128).contains(verifier.utf8.count) else { return false }
        let computed = Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
        return computed.utf8.count == challenge.utf8.count
            && zip(computed.utf8, challenge.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A well-formed S256 challenge: 43 base64url characters.
    static func isValidChallenge(_ challenge: String) -> Bool {
        challenge.utf8.count == 43 && Base64URL.decode(challenge)?.count == 32
    }
}
