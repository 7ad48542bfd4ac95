import Foundation
import TestSupport
import Testing

/// schemathesis (PyPI) against the CRM's served OpenAPI document, on a real `inopsio` process with SQLite and with
/// PostgreSQL: generated requests to every operation (coverage, fuzzing and stateful phases) must get no 5xx and
/// no answer the document does not describe (status, content type, body schema). The process runs Identity and
/// the CRM without the gateway, so its rate limits do not answer the fuzzer with 429s. The seed is fixed so a
/// failure reproduces; `CRM_FUZZ_SEED` picks another. Part of the serialized `BrowserTests` suite, so the fuzzer and
/// Chromium never run at once (together they starved the timing-sensitive gateway tests on 2 cores).
extension BrowserTests {
    static var fuzzerAvailable: Bool { PythonScripts.canImport("schemathesis") }

    static func fuzz(environment: [String: String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try InopsioProcess(
            ["serve", "--port", "0", "--modules", "identity,crm", "--data-dir", directory.appendingPathComponent("data").path],
            environment: environment)
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let tokens = try await IdentityProcessTests.signup(port, slug: "fuzz")
        let token = try #require(tokens["access_token"] as? String)
        let seed = ProcessInfo.processInfo.environment["CRM_FUZZ_SEED"] ?? "20261204"
        let (status, text) = try PythonScripts.run(
            "crm_fuzz.py", ["http://127.0.0.1:\(port)", token, seed])
        #expect(status == 0, "\(text)")
        #expect(text.contains("passed"), "\(text)")
    }

    @Test(.enabled(if: TestEnvironment.isCI || fuzzerAvailable, "needs schemathesis (pip install -r Tests/requirements.txt)"))
    func theDocumentHoldsForGeneratedRequestsOnSQLite() async throws {
        try await Self.fuzz(environment: [:])
    }

    @Test(
        .enabled(
            if: (TestEnvironment.isCI || fuzzerAvailable) && TestEnvironment.postgresURL != nil,
            "needs schemathesis and PostgreSQL (scripts/test starts it)"))
    func theDocumentHoldsForGeneratedRequestsOnPostgreSQL() async throws {
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { url in
            try await Self.fuzz(environment: ["INOPSIO_DATABASE_URL": url])
        }
    }
}
