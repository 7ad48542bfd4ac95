import Foundation
import TestSupport
import Testing

/// Real OIDC client libraries against a real server: `Tests/oidc/oidc_client_test.py` (Authlib and PyJWT).
/// Skipped (and reported as skipped) when Python or those packages are missing outside CI; under `CI=true` a
/// missing package fails the test, since `.ci/run` installs them.
@Suite(.serialized) struct OIDCClientLibraryTests {
    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("oidc/oidc_client_test.py")
    }

    static var pythonPackagesPresent: Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import authlib, jwt, requests"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with authlib, pyjwt, requests"))
    func authlibCompletesCodeFlowWithPKCEAndPyJWTVerifiesAccessTokens() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inopsio-oidc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try InopsioProcess([
            "serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path,
        ])
        defer { server.terminate() }
        let port = try await server.waitForPort()

        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-W", "ignore::DeprecationWarning", Self.script.path, "http://127.0.0.1:\(port)",
        ]
        let output = Pipe()
        python.standardOutput = output
        python.standardError = output
        try python.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(python.terminationStatus == 0, "\(text)")
        #expect(text.contains("oidc: all checks passed"), "\(text)")
    }
}
