import Foundation
import Identity
import Testing

@Suite struct TOTPTests {
    /// RFC 6238 Appendix B's SHA-1 seed.
    let totp = TOTP(secret: Array("12345678901234567890".utf8))

    @Test(arguments: [
        (59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"),
        (2_000_000_000, "279037"), (20_000_000_000, "353130"),
    ])
    func rfc6238VectorsTruncatedToSixDigits(_ time: Int, _ code: String) {
        // The RFC lists 8-digit codes; 6 digits are their last six.
        #expect(totp.code(step: TOTP.step(at: Date(timeIntervalSince1970: Double(time)))) == code)
    }

    @Test func adjacentStepsAreAcceptedAndNothingFurther() {
        let now = Date(timeIntervalSince1970: 1_111_111_111)
        let step = TOTP.step(at: now)
        #expect(totp.matchingStep(totp.code(step: step - 1), at: now, lastUsedStep: nil) == step - 1)
        #expect(totp.matchingStep(totp.code(step: step + 1), at: now, lastUsedStep: nil) == step + 1)
        #expect(totp.matchingStep(totp.code(step: step - 2), at: now, lastUsedStep: nil) == nil)
        #expect(totp.matchingStep(totp.code(step: step + 2), at: now, lastUsedStep: nil) == nil)
    }

    @Test func aCodeCannotBeUsedTwice() {
        let now = Date(timeIntervalSince1970: 1_111_111_111)
        let step = TOTP.step(at: now)
        let code = totp.code(step: step)
        #expect(totp.matchingStep(code, at: now, lastUsedStep: step) == nil)
        #expect(totp.matchingStep(totp.code(step: step + 1), at: now, lastUsedStep: step) == step + 1)
    }

    @Test func provisioningLinkCarriesTheBase32Secret() throws {
        #expect(Base32.encode(Array("12345678901234567890".utf8)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == Array("12345678901234567890".utf8))
        let uri = totp.provisioningURI(account: "ada@example.com", issuer: "Inopsio")
        #expect(uri.hasPrefix("otpauth://totp/Inopsio:ada@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
        #expect(uri.contains("digits=6") && uri.contains("period=30") && uri.contains("algorithm=SHA1"))
    }
}
