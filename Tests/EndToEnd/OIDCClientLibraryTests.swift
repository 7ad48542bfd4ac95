import Foundation
import TestSupport
import Testing

/// Real OIDC client libraries and a real second provider against real servers, through the Python scripts in
/// `Tests/oidc`. Skipped (and reported as skipped) when Python or its packages are missing outside CI; under
/// `CI=true` a missing package fails the test, since `.ci/run` installs them.
@Suite(.serialized) struct OIDCClientLibraryTests {
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

    static func script(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("oidc/\(name)")
    }

    /// Runs a Python check script and returns its exit status and output.
    static func runPython(_ name: String, _ arguments: [String]) throws -> (Int32, String) {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-W", "ignore::DeprecationWarning", script(name).path] + arguments
        let output = Pipe()
        python.standardOutput = output
        python.standardError = output
        try python.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        return (python.terminationStatus, text)
    }

    /// A server on a free port with its own data directory (removed by the caller).
    static func startServer() throws -> (InopsioProcess, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inopsio-oidc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = try InopsioProcess([
            "serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path,
        ])
        return (server, directory)
    }

    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with authlib, pyjwt, requests"))
    func authlibCompletesCodeFlowWithPKCEAndPyJWTVerifiesAccessTokens() async throws {
        let (server, directory) = try Self.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let (status, text) = try Self.runPython("oidc_client_test.py", ["http://127.0.0.1:\(port)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("oidc: all checks passed"), "\(text)")
    }

    /// A second `inopsio` acts as the tenant's external OpenID Connect provider (`Tests/oidc/federation_test.py`).
    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with pyjwt, requests"))
    func userSignsInThroughAnotherInopsioAsExternalProviderAndIsCreatedJustInTime() async throws {
        let (local, localDirectory) = try Self.startServer()
        let (upstream, upstreamDirectory) = try Self.startServer()
        defer {
            local.terminate()
            upstream.terminate()
            try? FileManager.default.removeItem(at: localDirectory)
            try? FileManager.default.removeItem(at: upstreamDirectory)
        }
        let localPort = try await local.waitForPort()
        let upstreamPort = try await upstream.waitForPort()
        let (status, text) = try Self.runPython(
            "federation_test.py", ["http://127.0.0.1:\(localPort)", "http://127.0.0.1:\(upstreamPort)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("federation: all checks passed"), "\(text)")
    }

    /// GitHub's OAuth2 against a stand-in serving GitHub's documented endpoints (`Tests/oidc/github_test.py`);
    /// github.com itself is out of reach from this machine.
    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with pyjwt, requests"))
    func userSignsInThroughGitHubOAuth2AndTheLoginMapsToARole() async throws {
        let (server, directory) = try Self.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let (status, text) = try Self.runPython("github_test.py", ["http://127.0.0.1:\(port)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("github: all checks passed"), "\(text)")
    }
}
