import CryptoExtras
import Dispatch
import Foundation
import Platform
import Synchronization

/// scrypt cost parameters. The default is OWASP's first recommendation for scrypt (N = 2^17, r = 8, p = 1:
/// 128 MiB and about a third of a second of one core per hash on these machines; see BENCHMARKS.md).
package struct PasswordHashParameters: Sendable, Equatable {
    /// log2 of N, the CPU/memory cost.
    package var logN: Int
    package var r: Int
    package var p: Int

    package init(logN: Int, r: Int, p: Int) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    package static let owasp = PasswordHashParameters(logN: 17, r: 8, p: 1)
}

/// The outcome of checking a password against a stored hash.
package enum PasswordVerification: Sendable, Equatable {
    case mismatch
    /// The password matches; `needsRehash` when the stored hash is bcrypt (imported) or has other parameters, so
    /// the caller should store `hash(password)` in its place.
    case match(needsRehash: Bool)
}

package enum PasswordHashError: Error, Equatable {
    case unsupportedHash
}

/// Hashes and checks passwords with scrypt, stored as PHC strings (`$scrypt$ln=17,r=8,p=1$salt$hash`); imported
/// bcrypt hashes (`$2a$`, `$2b$`, `$2y$`) are accepted and reported for rehashing. The work runs on Dispatch's
/// global queue, never on an event loop or the cooperative pool, and at most `concurrency` hashes run at once so a
/// burst of sign-ins cannot take all memory (each scrypt hash holds 128 r N bytes).
package final class PasswordHasher: Sendable {
    package let parameters: PasswordHashParameters
    private let gate: AsyncSemaphore
    /// A hash of a random password with the current parameters, made on first use: checked against when the
    /// account does not exist, so an unknown email costs the same time as a wrong password.
    private let decoy = Mutex<String?>(nil)

    package init(
        parameters: PasswordHashParameters = .owasp, concurrency: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.parameters = parameters
        self.gate = AsyncSemaphore(permits: max(1, concurrency))
    }

    /// A new PHC string for `password`.
    package func hash(_ password: String) async throws -> String {
        let parameters = parameters
        let salt = Self.salt()
        return try await offload { try Self.scrypt(password, parameters: parameters, salt: salt) }
    }

    /// Checks `password` against `stored` in constant time with respect to where the bytes differ.
    package func verify(_ password: String, against stored: String) async throws -> PasswordVerification {
        let current = parameters
        return try await offload { try Self.verifySync(password, against: stored, current: current) }
    }

    /// Spends the time of one verification without an account (see `decoy`).
    package func verifyDecoy(_ password: String) async {
        let existing = decoy.withLock { $0 }
        let hash: String
        if let existing {
            hash = existing
        } else {
            guard let made = try? await self.hash(Base64URL.randomToken()) else { return }
            decoy.withLock { $0 = made }
            hash = made
        }
        _ = try? await verify(password, against: hash)
    }

    static func verifySync(_ password: String, against stored: String, current: PasswordHashParameters) throws
        -> PasswordVerification
    {
        if stored.hasPrefix("$2a$") || stored.hasPrefix("$2b$") || stored.hasPrefix("$2y$") {
            guard let matches = try? BCrypt.verify(password, against: stored) else {
                throw PasswordHashError.unsupportedHash
            }
            return matches ? .match(needsRehash: true) : .mismatch
        }
        guard let phc = ScryptPHC(stored) else { throw PasswordHashError.unsupportedHash }
        let derived = try derive(password, parameters: phc.parameters, salt: phc.salt, length: phc.hash.count)
        guard constantTimeEqual(derived, phc.hash) else { return .mismatch }
        return .match(needsRehash: phc.parameters != current)
    }

    static func scrypt(_ password: String, parameters: PasswordHashParameters, salt: [UInt8]) throws -> String {
        let hash = try derive(password, parameters: parameters, salt: salt, length: 32)
        return ScryptPHC(parameters: parameters, salt: salt, hash: hash).description
    }

    static func derive(_ password: String, parameters: PasswordHashParameters, salt: [UInt8], length: Int) throws
        -> [UInt8]
    {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: 1 << parameters.logN,
            blockSize: parameters.r, parallelism: parameters.p)
        return key.withUnsafeBytes { Array($0) }
    }

    static func salt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await gate.withPermit {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global(qos: .userInitiated).async {
                    continuation.resume(with: Result { try work() })
                }
            }
        }
    }
}

/// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` with unpadded standard base64 (the PHC string format).
struct ScryptPHC: CustomStringConvertible {
    let parameters: PasswordHashParameters
    let salt: [UInt8]
    let hash: [UInt8]

    init(parameters: PasswordHashParameters, salt: [UInt8], hash: [UInt8]) {
        self.parameters = parameters
        self.salt = salt
        self.hash = hash
    }

    init?(_ text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [String: Int] = [:]
        for pair in parts[2].split(separator: ",") {
            let keyValue = pair.split(separator: "=")
            guard keyValue.count == 2, let number = Int(keyValue[1]) else { return nil }
            values[String(keyValue[0])] = number
        }
        guard let logN = values["ln"], (1...24).contains(logN), let r = values["r"], (1...32).contains(r),
            let p = values["p"], (1...16).contains(p), let salt = Self.decode(parts[3]),
            let hash = Self.decode(parts[4]),
            salt.count >= 8, hash.count >= 16
        else { return nil }
        self.parameters = PasswordHashParameters(logN: logN, r: r, p: p)
        self.salt = salt
        self.hash = hash
    }

    var description: String {
        "$scrypt$ln=\(parameters.logN),r=\(parameters.r),p=\(parameters.p)$\(Self.encode(salt))$\(Self.encode(hash))"
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        var padded = String(text)
        while padded.utf8.count % 4 != 0 { padded.append("=") }
        return Data(base64Encoded: padded).map { Array($0) }
    }
}
