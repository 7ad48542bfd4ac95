import Foundation
import SQLiteNIO
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The Identity module in a real `inopsio` process, and its command-line tools on the same data directory.
@Suite(.serialized) struct IdentityProcessTests {
    static func dataDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-id-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func signup(_ port: Int, slug: String) async throws -> [String: Any] {
        let (status, _, body) = try await HTTP.json(
            "POST", port, "/api/v1/identity/signup",
            [
                "tenant_slug": slug, "tenant_name": "Org", "name": "Ada", "email": "ada@example.com",
                "password": "correct horse battery",
            ])
        #expect(status == 201, "\(body)")
        return body["tokens"] as? [String: Any] ?? [:]
    }

    @Test func signUpSignInAndUseTheTokenAgainstARealServer() async throws {
        let directory = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try InopsioProcess([
            "serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path,
        ])
        defer { server.terminate() }
        let port = try await server.waitForPort()
        _ = try await Self.signup(port, slug: "acme")
        let (status, _, tokens) = try await HTTP.json(
            "POST", port, "/api/v1/identity/login",
            ["tenant": "acme", "email": "ada@example.com", "password": "correct horse battery"])
        #expect(status == 200)
        let token = try #require(tokens["access_token"] as? String)
        let (meStatus, _, me) = try await HTTP.json("GET", port, "/api/v1/identity/users/me", token: token)
        #expect(meStatus == 200)
        #expect(me["email"] as? String == "ada@example.com")
        let (jwksStatus, headers, jwks) = try await HTTP.json("GET", port, "/.well-known/jwks.json")
        #expect(jwksStatus == 200)
        #expect(headers["content-type"] == "application/jwk-set+json")
        #expect((jwks["keys"] as? [[String: Any]])?.count == 1)
    }

    @Test func rotatedKeysKeepOldTokensValidAndBothArePublished() async throws {
        let directory = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let server = try InopsioProcess(["serve", "--port", "0", "--data-dir", data])
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let old = try #require(try await Self.signup(port, slug: "acme")["access_token"] as? String)
        let rotate = try InopsioProcess(["identity", "rotate-keys", "--data-dir", data])
        #expect(await rotate.waitForExit() == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.contains("signs from"))
        // A second instance on the same database (as a scaled-out deployment has) publishes both keys at once;
        // the first picks the new key up on its next cache refresh, well before the new key signs anything.
        let second = try InopsioProcess(["serve", "--port", "0", "--data-dir", data])
        defer { second.terminate() }
        let secondPort = try await second.waitForPort()
        let (status, _, jwks) = try await HTTP.json("GET", secondPort, "/.well-known/jwks.json")
        #expect(status == 200)
        let kids = (jwks["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
        #expect(kids.count == 2, "\(jwks)")
        #expect(try await HTTP.json("GET", port, "/api/v1/identity/users/me", token: old).0 == 200)
        #expect(try await HTTP.json("GET", secondPort, "/api/v1/identity/users/me", token: old).0 == 200)
    }

    @Test func auditVerifyFindsAnEditedRecord() async throws {
        let directory = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let server = try InopsioProcess(["serve", "--port", "0", "--data-dir", data])
        let port = try await server.waitForPort()
        _ = try await Self.signup(port, slug: "acme")
        _ = try await HTTP.json(
            "POST", port, "/api/v1/identity/login",
            ["tenant": "acme", "email": "ada@example.com", "password": "wrong one!"])
        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)

        let clean = try InopsioProcess(["audit", "verify", "--data-dir", data])
        #expect(await clean.waitForExit() == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("acme: intact, 3 record(s)"), "\(clean.stdout)")

        // Someone with access to the database file rewrites where a failed sign-in came from.
        try await Self.sqlite(
            data + "/inopsio.sqlite",
            [
                "DROP TRIGGER audit_log_append_only",
                "UPDATE audit_log SET ip = '198.51.100.7' WHERE action = 'login.failed'",
            ])
        let verify = try InopsioProcess(["audit", "verify", "--data-dir", data])
        #expect(await verify.waitForExit() == 1)
        #expect(verify.stdout.contains("acme: TAMPERED"))
        #expect(verify.stdout.contains("was altered"))
    }

    static func sqlite(_ path: String, _ statements: [String]) async throws {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            for statement in statements { _ = try await connection.query(statement) }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
