import Crypto
import Foundation
import Platform
import Testing

@Suite struct JSONWebTokenTests {
    struct Claims: Codable, Equatable {
        let sub: String
        let n: Int
    }

    let key = P256.Signing.PrivateKey()

    @Test func signedTokenVerifiesWithItsKeyAndCarriesItsClaims() throws {
        let token = try JSONWebToken.sign(Claims(sub: "u1", n: 7), key: key, keyID: "k1", type: "at+jwt")
        #expect(token.split(separator: ".").count == 3)
        let verified = try JSONWebToken.verify(token) { $0 == "k1" ? key.publicKey : nil }
        #expect(verified.header.alg == "ES256" && verified.header.typ == "at+jwt" && verified.header.kid == "k1")
        #expect(try JSONDecoder().decode(Claims.self, from: verified.payload) == Claims(sub: "u1", n: 7))
        #expect(JSONWebToken.unverifiedKeyID(token) == "k1")
    }

    @Test func tamperedPayloadIsRefused() throws {
        let token = try JSONWebToken.sign(Claims(sub: "u1", n: 7), key: key, keyID: "k1")
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Array(#"{"n":8,"sub":"u1"}"#.utf8))
        #expect(throws: JWTError.badSignature) {
            try JSONWebToken.verify(parts.joined(separator: ".")) { _ in key.publicKey }
        }
    }

    @Test func anotherKeysSignatureIsRefused() throws {
        let token = try JSONWebToken.sign(Claims(sub: "u1", n: 7), key: P256.Signing.PrivateKey(), keyID: "k1")
        #expect(throws: JWTError.badSignature) { try JSONWebToken.verify(token) { _ in key.publicKey } }
    }

    @Test(arguments: ["none", "HS256", "RS256", "ES384"])
    func otherAlgorithmsAreRefusedBeforeAnyKeyIsLookedUp(_ alg: String) throws {
        let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"k1"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"sub":"u1","n":1}"#.utf8))
        #expect(throws: JWTError.unsupportedAlgorithm) {
            try JSONWebToken.verify("\(header).\(payload).") { _ in
                Issue.record("no key may be looked up for \(alg)")
                return key.publicKey
            }
        }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30"])
    func malformedTokensAreRefused(_ token: String) {
        #expect(throws: JWTError.self) { try JSONWebToken.verify(token) { _ in key.publicKey } }
    }

    @Test func unknownKeyIDIsRefused() throws {
        let token = try JSONWebToken.sign(Claims(sub: "u1", n: 7), key: key, keyID: "old")
        #expect(throws: JWTError.unknownKey) { try JSONWebToken.verify(token) { _ in nil } }
    }

    @Test func registeredClaimsCheckExpiryIssuerAndAudience() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let claims = RegisteredClaims(iss: "https://id.example", sub: "u", aud: "api", exp: 1_000_060, iat: 1_000_000)
        try claims.validate(now: now, issuer: "https://id.example", audience: "api")
        try claims.validate(now: now.addingTimeInterval(80), issuer: nil, audience: nil)
        #expect(throws: JWTError.expired) {
            try claims.validate(now: now.addingTimeInterval(91), issuer: nil, audience: nil)
        }
        #expect(throws: JWTError.wrongIssuer) { try claims.validate(now: now, issuer: "https://evil", audience: nil) }
        #expect(throws: JWTError.wrongAudience) { try claims.validate(now: now, issuer: nil, audience: "other") }
        let data = try JSONEncoder().encode(
            RegisteredClaims(iss: "i", sub: "s", aud: .init(["a", "b"]), exp: 1, iat: 0))
        #expect(try JSONDecoder().decode(RegisteredClaims.self, from: data).aud.values == ["a", "b"])
    }

    @Test func jwkRoundTripsThePublicKey() throws {
        let jwk = JSONWebKey(publicKey: key.publicKey, keyID: "k1")
        #expect(jwk.kty == "EC" && jwk.crv == "P-256" && jwk.alg == "ES256" && jwk.use == "sig")
        #expect(jwk.publicKey?.rawRepresentation == key.publicKey.rawRepresentation)
        let set = JSONWebKeySet(keys: [jwk])
        let decoded = try JSONDecoder().decode(JSONWebKeySet.self, from: try JSONEncoder().encode(set))
        #expect(decoded.key(id: "k1")?.rawRepresentation == key.publicKey.rawRepresentation)
        #expect(decoded.key(id: "k2") == nil)
    }
}
