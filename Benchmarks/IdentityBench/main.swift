import Crypto
import Foundation
import Identity
import Platform

// Micro-benchmarks of Identity's cryptography, one thread: ES256 JWT signing and verification (the cost every
// sign-in, refresh and API request pays) and one scrypt password hash with the parameters the server uses.
// Run in release: `swift run -c release bench-identity`. Prints `name value unit` lines for scripts/bench-identity.

struct Claims: Codable {
    let iss: String
    let sub: String
    let aud: String
    let exp: Int64
    let iat: Int64
    let jti: String
    let tenant_id: String
    let roles: [String]
    let scope: String
}

func measure(_ name: String, seconds: Double = 3, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<100 { try body() }
    let start = ContinuousClock.now
    var count = 0
    while (ContinuousClock.now - start) < .milliseconds(Int(seconds * 1000)) {
        for _ in 0..<50 { try body() }
        count += 50
    }
    let elapsed = ContinuousClock.now - start
    let perSecond = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print("\(name) \(Int(perSecond)) ops/s")
    return perSecond
}

let key = P256.Signing.PrivateKey()
let claims = Claims(
    iss: "https://ops.example.com", sub: UUID().uuidString.lowercased(), aud: "inopsio-api", exp: 2_000_000_000,
    iat: 1_900_000_000, jti: UUID().uuidString.lowercased(), tenant_id: UUID().uuidString.lowercased(),
    roles: ["tenant-admin"], scope: "openid profile email")
let token = try JSONWebToken.sign(claims, key: key, keyID: "k1", type: "at+jwt")
print("jwt_bytes \(token.utf8.count) bytes")
_ = try measure("jwt_sign") { _ = try JSONWebToken.sign(claims, key: key, keyID: "k1", type: "at+jwt") }
_ = try measure("jwt_verify") {
    let verified = try JSONWebToken.verify(token) { _ in key.publicKey }
    _ = try JSONDecoder().decode(Claims.self, from: verified.payload)
}

let parameters = PasswordHashParameters.owasp
let hasher = PasswordHasher(parameters: parameters, concurrency: 1)
let stored = try await hasher.hash("correct horse battery")
var samples: [Double] = []
for _ in 0..<8 {
    let start = ContinuousClock.now
    _ = try await hasher.verify("correct horse battery", against: stored)
    let elapsed = ContinuousClock.now - start
    samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}
samples.sort()
print(
    "scrypt_params ln=\(parameters.logN),r=\(parameters.r),p=\(parameters.p) (\(((128 * parameters.r) << parameters.logN) >> 20) MiB)"
)
print("scrypt_verify_median \(String(format: "%.1f", samples[samples.count / 2])) ms")
