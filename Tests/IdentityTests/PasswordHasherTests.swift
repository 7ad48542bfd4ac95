import Foundation
import Identity
import Testing

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(parameters: testHashing, concurrency: 2)

    @Test func hashIsAPHCStringThatVerifiesOnlyItsPassword() async throws {
        let hash = try await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(hash.split(separator: "$").count == 4)
        #expect(try await hasher.verify("correct horse battery", against: hash) == .match(needsRehash: false))
        #expect(try await hasher.verify("correct horse batterY", against: hash) == .mismatch)
        #expect(try await hasher.hash("correct horse battery") != hash)
    }

    @Test func hashWithOtherParametersMatchesAndAsksForARehash() async throws {
        let old = try await PasswordHasher(parameters: .init(logN: 9, r: 8, p: 1)).hash("correct horse battery")
        #expect(try await hasher.verify("correct horse battery", against: old) == .match(needsRehash: true))
    }

    @Test func importedBcryptHashMatchesAndAsksForARehash() async throws {
        // BCrypt itself is checked against Python's bcrypt vectors in BCryptTests.
        let bcrypt = try BCrypt.hash("correct horse battery", cost: 5)
        #expect(try await hasher.verify("correct horse battery", against: bcrypt) == .match(needsRehash: true))
        #expect(try await hasher.verify("wrong horse battery", against: bcrypt) == .mismatch)
    }

    @Test(arguments: [
        "", "plain", "$scrypt$ln=99,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$x$y", "$2b$05$short",
    ])
    func unknownOrMalformedHashesAreErrors(_ stored: String) async {
        await #expect(throws: (any Error).self) { try await hasher.verify("x", against: stored) }
    }
}
