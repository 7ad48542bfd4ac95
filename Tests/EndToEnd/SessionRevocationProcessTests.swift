import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// API.md: a revoked session is refused by every process within seconds. The split deployment for real: an
/// Identity process, a CRM process and a gateway in front of both, all `inopsio` binaries on one PostgreSQL. The
/// CRM process and the gateway have each verified (and cached) the access token before its session ends in the
/// Identity process; both then refuse it, told by PostgreSQL's notification (or their poll of the table). On the
/// way, a file goes through the gateway to the CRM process (each applies the upload path's own body limit).
@Suite(.serialized, .enabled(if: SplitDeployment.serversAvailable))
struct SessionRevocationProcessTests {
    @Test func aSignOutInOneProcessIsHonouredByTheOthersWithinSeconds() async throws {
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { database in
            let environment = ["INOPSIO_DATABASE_URL": database]
            let identity = try InopsioProcess(
                ["serve", "--port", "0", "--modules", "identity,website"], environment: environment)
            defer { identity.terminate() }
            let identityPort = try await identity.waitForPort()
            let crm = try InopsioProcess(["serve", "--port", "0", "--modules", "crm"], environment: environment)
            defer { crm.terminate() }
            let crmPort = try await crm.waitForPort()
            let gateway = try InopsioProcess(
                [
                    "serve", "--port", "0", "--modules", "gateway",
                    "--upstream", "identity=http://127.0.0.1:\(identityPort)",
                    "--upstream", "crm=http://127.0.0.1:\(crmPort)",
                ], environment: environment)
            defer { gateway.terminate() }
            let gatewayPort = try await gateway.waitForPort()

            let (status, _, body) = try await HTTP.json(
                "POST", identityPort, "/api/v1/identity/signup",
                [
                    "tenant_slug": "acme", "tenant_name": "Acme", "name": "Ada", "email": "ada@acme.example",
                    "password": "correct horse battery staple",
                ])
            #expect(status == 201, "\(body)")
            let token = try #require((body["tokens"] as? [String: Any])?["access_token"] as? String)
            let leadsOnCRM = { try await HTTP.json("GET", crmPort, "/api/v1/crm/leads", token: token).0 }
            let leadsThroughGateway = { try await HTTP.json("GET", gatewayPort, "/api/v1/crm/leads", token: token).0 }
            #expect(try await leadsOnCRM() == 200)
            // Twice through the gateway: the second answer comes from its verified-token cache (fast path).
            #expect(try await leadsThroughGateway() == 200)
            #expect(try await leadsThroughGateway() == 200)
            // A file larger than max_body_bytes (1 MiB by default) on a lead, through the gateway to the CRM process:
            // the upload path's limit (max_upload_bytes) holds in both processes.
            let (created, _, lead) = try await HTTP.json(
                "POST", gatewayPort, "/api/v1/crm/leads", ["first_name": "Ada", "email": "ada@example.com"],
                token: token)
            #expect(created == 201, "\(lead)")
            let leadID = try #require(lead["id"] as? String)
            var upload = URLRequest(
                url: URL(string: "http://127.0.0.1:\(gatewayPort)/api/v1/crm/leads/\(leadID)/attachments?name=a.txt")!)
            upload.httpMethod = "POST"
            upload.setValue("text/plain", forHTTPHeaderField: "Content-Type")
            upload.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            upload.httpBody = Data(repeating: UInt8(ascii: "a"), count: 2 * 1_048_576)
            let (uploaded, _, attachment) = try await HTTP.send(upload)
            #expect(uploaded == 201, "\(attachment)")
            #expect(attachment.contains("\"size\":2097152"))

            let (logout, _, _) = try await HTTP.json("POST", identityPort, "/api/v1/identity/logout", token: token)
            #expect(logout == 204)
            #expect(try await Self.eventually { try await leadsOnCRM() == 401 }, "the CRM process still accepts it")
            #expect(
                try await Self.eventually { try await leadsThroughGateway() == 401 },
                "the gateway still accepts it")
            #expect(try await HTTP.json("GET", identityPort, "/api/v1/identity/users/me", token: token).0 == 401)
        }
    }

    /// Whether `condition` holds within 10 seconds (asked every 100 ms): a bound on waiting, not a timing assertion.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}
