import Crypto
import Foundation

/// Compact JWS tokens signed with ES256 (ECDSA P-256 with SHA-256), the only algorithm Inopsio issues or accepts:
/// `alg: none`, HMAC and RSA tokens are refused before any key is looked up, which rules out algorithm confusion.
package enum JSONWebToken {
    /// `header.payload.signature` for `claims`, with `kid` naming the key in the JWKS and `typ` the token type
    /// (`at+jwt` for access tokens per RFC 9068, `JWT` for ID tokens).
    package static func sign(
        _ claims: some Encodable, key: P256.Signing.PrivateKey, keyID: String, type: String = "JWT"
    ) throws -> String {
        let header = Header(alg: "ES256", typ: type, kid: keyID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput =
            Base64URL.encode(try encoder.encode(header)) + "." + Base64URL.encode(try encoder.encode(claims))
        // JWS wants the raw r||s form (64 bytes), not DER.
        let signature = try key.signature(for: Data(signingInput.utf8)).rawRepresentation
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Checks the token's form, algorithm and signature and returns its header and payload bytes. Claims
    /// (expiry, issuer, audience) are the caller's to check, with `RegisteredClaims.validate`.
    package static func verify(
        _ token: some StringProtocol, key: (String) -> P256.Signing.PublicKey?
    ) throws(JWTError) -> (header: Header, payload: Data) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]),
            let payload = Base64URL.decode(parts[1]), let signatureData = Base64URL.decode(parts[2])
        else { throw .malformed }
        guard let header = try? JSONDecoder().decode(Header.self, from: headerData) else { throw .malformed }
        guard header.alg == "ES256" else { throw .unsupportedAlgorithm }
        guard let keyID = header.kid, let publicKey = key(keyID) else { throw .unknownKey }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureData),
            publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8))
        else { throw .badSignature }
        return (header, payload)
    }

    /// The key id a token names, read without verifying anything (to decide whether a key set needs refreshing).
    package static func unverifiedKeyID(_ token: some StringProtocol) -> String? {
        guard let first = token.split(separator: ".", maxSplits: 1).first, let data = Base64URL.decode(first) else {
            return nil
        }
        return (try? JSONDecoder().decode(Header.self, from: data))?.kid
    }

    /// The `iss` claim of a token before verification, to pick the keys to verify it with (never to trust it).
    package static func unverifiedIssuer(_ token: some StringProtocol) -> String? {
        let parts = token.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Base64URL.decode(parts[1]) else { return nil }
        return (try? JSONDecoder().decode(UnverifiedIssuer.self, from: data))?.iss
    }

    private struct UnverifiedIssuer: Decodable { let iss: String? }

    /// The JOSE header.
    package struct Header: Codable, Sendable, Equatable {
        package let alg: String
        package let typ: String?
        package let kid: String?
    }
}

/// Why a token was refused. Clients only ever learn "invalid token"; the case goes to logs and tests.
package enum JWTError: Error, Equatable, Sendable {
    case malformed
    case unsupportedAlgorithm
    case unknownKey
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    case wrongType
}

/// The registered claims (RFC 7519 §4.1) every Inopsio token carries and their checks.
package struct RegisteredClaims: Codable, Sendable, Equatable {
    package var iss: String
    package var sub: String
    package var aud: Audience
    package var exp: Int64
    package var iat: Int64
    package var nbf: Int64?
    package var jti: String?

    package init(
        iss: String, sub: String, aud: Audience, exp: Int64, iat: Int64, nbf: Int64? = nil, jti: String? = nil
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
        self.jti = jti
    }

    /// Checks time and, when given, issuer and audience. `leeway` absorbs clock skew between instances.
    package func validate(
        now: Date, issuer: String?, audience: String?, leeway: TimeInterval = 30
    ) throws(JWTError) {
        let seconds = now.timeIntervalSince1970
        guard Double(exp) + leeway > seconds else { throw .expired }
        if let nbf, Double(nbf) - leeway > seconds { throw .notYetValid }
        if let issuer, iss != issuer { throw .wrongIssuer }
        if let audience, !aud.values.contains(audience) { throw .wrongAudience }
    }

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3); one value is written as a string.
    package struct Audience: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
        package var values: [String]

        package init(_ values: [String]) { self.values = values }
        package init(stringLiteral value: String) { self.values = [value] }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                values = [one]
            } else {
                values = try container.decode([String].self)
            }
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if values.count == 1 { try container.encode(values[0]) } else { try container.encode(values) }
        }
    }
}
