import Crypto
import Foundation
import Platform

/// Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-signature` carries
/// `v1,<base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"))>` for each valid secret, separated by
/// spaces; a secret is `whsec_<base64 of 24 to 64 random bytes>` and its key is the decoded bytes.
package enum WebhookSigner {
    package static let secretPrefix = "whsec_"

    /// A new secret (32 random bytes).
    package static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    static func key(_ secret: String) -> SymmetricKey? {
        guard secret.hasPrefix(secretPrefix),
            let bytes = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count)))
        else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` value for `body` signed with every secret in `secrets`.
    package static func signature(id: String, timestamp: Int64, body: Data, secrets: [String]) -> String {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return secrets.compactMap(key).map { key in
            "v1," + Data(HMAC<SHA256>.authenticationCode(for: content, using: key)).base64EncodedString()
        }.joined(separator: " ")
    }
}
