import Foundation
import Identity
import TestSupport
import Testing

/// `inopsio secrets`: a key rotation while the server runs, with the built binary: every stored secret is re-sealed
/// under the new key, the running server keeps opening them (it reads the key file again), the old key is retired,
/// and a restarted server that has only the new key signs in with the TOTP secret enrolled before. A process with
/// another installation's key is refused.
@Suite struct SecretsProcessTests {
    static func totpCode(_ secret: String, stepOffset: Int64) throws -> String {
        TOTP(secret: try #require(Base32.decode(secret))).code(step: TOTP.step(at: Date()) + stepOffset)
    }

    static func keyIDs(_ file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { String($0.split(separator: ":")[0]) }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32?, String) {
        let process = try InopsioProcess(arguments, environment: environment)
        let status = await process.waitForExit(timeout: .seconds(120))
        return (status, process.stdout + process.stderr)
    }

    @Test func aKeyRotationWhileServingLosesNoSecret() async throws {
        let directory = try IdentityProcessTests.dataDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let keyFile = directory.appendingPathComponent("data/secrets.key")
        var server = try InopsioProcess(["serve", "--port", "0", "--data-dir", data])
        defer { server.terminate() }
        var port = try await server.waitForPort()
        #expect(server.stdout.contains("made a new secrets key file"))
        let oldKeys = try Self.keyIDs(keyFile)
        #expect(oldKeys.count == 1)

        let token = try #require(try await IdentityProcessTests.signup(port, slug: "acme")["access_token"] as? String)
        let (enrolled, _, enrollment) = try await HTTP.json(
            "POST", port, "/api/v1/identity/users/me/mfa/totp", [:], token: token)
        #expect(enrolled == 201)
        let secret = try #require(enrollment["secret"] as? String)
        let (confirmed, _, _) = try await HTTP.json(
            "POST", port, "/api/v1/identity/users/me/mfa/totp/confirm",
            ["code": try Self.totpCode(secret, stepOffset: -1)],
            token: token)
        #expect(confirmed == 200)
        let (webhook, _, _) = try await HTTP.json(
            "POST", port, "/api/v1/messaging/webhooks",
            ["url": "https://198.51.100.7/hook", "event_types": ["crm.lead.created"]], token: token)
        #expect(webhook == 201)

        let (rotated, rotation) = try await Self.run(["secrets", "rotate-key", "--data-dir", data])
        #expect(rotated == 0, "\(rotation)")
        let newKeys = try Self.keyIDs(keyFile)
        #expect(newKeys.count == 2 && newKeys[1] == oldKeys[0])
        // The signing key, the TOTP secret, the webhook's secret and the link key (made at start).
        #expect(rotation.contains("current key \(newKeys[0]); re-sealed"), "\(rotation)")
        let (_, status) = try await Self.run(["secrets", "status", "--data-dir", data])
        #expect(status.contains("\(oldKeys[0])  active  0 secret(s)"), "\(status)")

        // The running server opens the re-sealed TOTP secret.
        let login: [String: Any] = [
            "tenant": "acme", "email": "ada@example.com", "password": "correct horse battery",
            "totp_code": try Self.totpCode(secret, stepOffset: 0),
        ]
        let (signedIn, _, answer) = try await HTTP.json("POST", port, "/api/v1/identity/login", login)
        #expect(signedIn == 200, "\(answer)")

        let (retired, retirement) = try await Self.run(["secrets", "retire-key", oldKeys[0], "--data-dir", data])
        #expect(retired == 0, "\(retirement)")
        #expect(try Self.keyIDs(keyFile) == [newKeys[0]])

        server.terminate()
        _ = await server.waitForExit()
        server = try InopsioProcess(["serve", "--port", "0", "--data-dir", data])
        port = try await server.waitForPort()
        var again = login
        again["totp_code"] = try Self.totpCode(secret, stepOffset: 1)
        let (afterRestart, _, restartAnswer) = try await HTTP.json("POST", port, "/api/v1/identity/login", again)
        #expect(afterRestart == 200, "\(restartAnswer)")
        let (keysStatus, _, _) = try await HTTP.json("GET", port, "/.well-known/jwks.json")
        #expect(keysStatus == 200)

        // A process given another key (its own key file) is refused before it touches anything.
        let other = directory.appendingPathComponent("other.key").path
        let (refused, refusal) = try await Self.run(
            ["migrate", "--data-dir", data], environment: ["INOPSIO_SECRETS_KEY_FILE": other])
        #expect(refused != 0)
        #expect(refusal.contains("is not one of the installation's"), "\(refusal)")
    }
}
