import Foundation
import TestSupport
import Testing

/// schemathesis (PyPI) against each module's served OpenAPI document, on a real `inopsio` process with SQLite and
/// with PostgreSQL: generated requests to every operation (coverage, fuzzing and stateful phases) must get no 5xx
/// and no answer the document does not describe (status, content type, body schema). The process runs the modules
/// without the gateway, so its rate limits do not answer the fuzzer with 429s. The seed is fixed so a failure
/// reproduces; `API_FUZZ_SEED` picks another. Part of the serialized `BrowserTests` suite, so the fuzzer and
/// Chromium never run at once (together they starved the timing-sensitive gateway tests on 2 cores).
extension BrowserTests {
    static var fuzzerAvailable: Bool { PythonScripts.canImport("schemathesis") }

    /// Each fuzzed module, with the paths left out of its run: those that end the fuzzer's own session or change
    /// its password (every later request would only get 401).
    static let fuzzedModules: [(module: String, excluded: String?)] = [
        ("crm", nil),
        ("identity", "/logout$|/users/me/password$"),
        ("messaging", nil),
    ]

    static func fuzz(environment: [String: String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inopsio-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try InopsioProcess(
            [
                "serve", "--port", "0", "--modules", "identity,crm,messaging", "--data-dir",
                directory.appendingPathComponent("data").path,
            ],
            environment: environment)
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let seed = ProcessInfo.processInfo.environment["API_FUZZ_SEED"] ?? "20261204"
        for (module, excluded) in fuzzedModules {
            // A tenant per module: what one module's run changes (tenant settings, roles) does not reach another's.
            let tokens = try await IdentityProcessTests.signup(port, slug: "fuzz-\(module)")
            let token = try #require(tokens["access_token"] as? String)
            let (status, text) = try PythonScripts.run(
                "api_fuzz.py", ["http://127.0.0.1:\(port)", token, seed, module] + (excluded.map { [$0] } ?? []))
            #expect(status == 0, "\(module): \(text)")
            #expect(text.contains("passed"), "\(module): \(text)")
        }
    }

    @Test(
        .enabled(
            if: TestEnvironment.isCI || fuzzerAvailable, "needs schemathesis (pip install -r Tests/requirements.txt)"))
    func theDocumentsHoldForGeneratedRequestsOnSQLite() async throws {
        try await Self.fuzz(environment: [:])
    }

    @Test(
        .enabled(
            if: (TestEnvironment.isCI || fuzzerAvailable) && TestEnvironment.postgresURL != nil,
            "needs schemathesis and PostgreSQL (scripts/test starts it)"))
    func theDocumentsHoldForGeneratedRequestsOnPostgreSQL() async throws {
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { url in
            try await Self.fuzz(environment: ["INOPSIO_DATABASE_URL": url])
        }
    }
}
