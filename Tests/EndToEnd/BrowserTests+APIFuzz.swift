import Foundation
import TestSupport
import Testing

@testable import Inopsio

/// schemathesis (PyPI) against each module's served OpenAPI document, on a real `inopsio` process with SQLite and
/// with PostgreSQL: generated requests to every operation (coverage, fuzzing and stateful phases) must get no 5xx
/// and no answer the document does not describe (status, content type, body schema). The process runs the modules
/// without the gateway, so its rate limits do not answer the fuzzer with 429s. The seed is fixed so a failure
/// reproduces; `API_FUZZ_SEED` picks another. Part of the serialized `BrowserTests` suite, so the fuzzer and
/// Chromium never run at once (together they starved the timing-sensitive gateway tests on 2 cores).
extension BrowserTests {
    static var fuzzerAvailable: Bool { PythonScripts.canImport("schemathesis") }

    /// Every module of the binary but the gateway: each whose process serves an OpenAPI document is fuzzed, so a
    /// new module is covered as soon as it serves one.
    static var servedModules: [String] { ModuleCatalog.all().map(\.name).filter { $0 != "gateway" } }

    /// Paths left out of a module's run: those that end the fuzzer's own session or change its password (every
    /// later request would only get 401).
    /// Messaging's event stream is an endless response (server-sent events): a fuzzer that reads whole bodies can
    /// only wait for its timeout on each case. The stream has its own tests (`LiveUpdateTests`,
    /// `LiveWebSocketProcessTests`).
    static let excludedPaths: [String: String] = [
        "identity": "/logout$|/users/me/password$", "messaging": "/messaging/stream$",
    ]

    static func fuzz(environment: [String: String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inopsio-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try InopsioProcess(
            [
                "serve", "--port", "0", "--modules", servedModules.joined(separator: ","), "--data-dir",
                directory.appendingPathComponent("data").path,
            ],
            environment: environment)
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let seed = ProcessInfo.processInfo.environment["API_FUZZ_SEED"] ?? "20261204"
        var fuzzed: [String] = []
        for module in servedModules {
            guard try await HTTP.get(port, "/api/v1/\(module)/openapi.json").0 == 200 else { continue }
            fuzzed.append(module)
            let excluded = excludedPaths[module]
            // A tenant per module: what one module's run changes (tenant settings, roles) does not reach another's.
            let tokens = try await IdentityProcessTests.signup(port, slug: "fuzz-\(module)")
            let token = try #require(tokens["access_token"] as? String)
            let (status, text) = try PythonScripts.run(
                "api_fuzz.py", ["http://127.0.0.1:\(port)", token, seed, module] + (excluded.map { [$0] } ?? []))
            #expect(status == 0, "\(module): \(text)")
            #expect(text.contains("passed"), "\(module): \(text)")
        }
        #expect(Set(fuzzed).isSuperset(of: ["crm", "identity", "messaging"]), "fuzzed: \(fuzzed)")
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
