import Foundation
import TestSupport
import Testing

/// Real OIDC client libraries and a real second provider against real servers, through the Python scripts in
/// `Tests/oidc`. Skipped (and reported as skipped) when Python or its packages are missing outside CI; under
/// `CI=true` a missing package fails the test, since `.ci/run` installs them.
@Suite(.serialized) struct OIDCClientLibraryTests {
    static var pythonPackagesPresent: Bool { PythonScripts.canImport("authlib", "jwt", "requests") }

    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with authlib, pyjwt, requests"))
    func authlibCompletesCodeFlowWithPKCEAndPyJWTVerifiesAccessTokens() async throws {
        let (server, directory) = try PythonScripts.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let (status, text) = try PythonScripts.run("oidc/oidc_client_test.py", ["http://127.0.0.1:\(port)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("oidc: all checks passed"), "\(text)")
    }

    /// A second `inopsio` acts as the tenant's external OpenID Connect provider (`Tests/oidc/federation_test.py`).
    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with pyjwt, requests"))
    func userSignsInThroughAnotherInopsioAsExternalProviderAndIsCreatedJustInTime() async throws {
        let (local, localDirectory) = try PythonScripts.startServer()
        let (upstream, upstreamDirectory) = try PythonScripts.startServer()
        defer {
            local.terminate()
            upstream.terminate()
            try? FileManager.default.removeItem(at: localDirectory)
            try? FileManager.default.removeItem(at: upstreamDirectory)
        }
        let localPort = try await local.waitForPort()
        let upstreamPort = try await upstream.waitForPort()
        let (status, text) = try PythonScripts.run(
            "oidc/federation_test.py", ["http://127.0.0.1:\(localPort)", "http://127.0.0.1:\(upstreamPort)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("federation: all checks passed"), "\(text)")
    }

    /// GitHub's OAuth2 against a stand-in serving GitHub's documented endpoints (`Tests/oidc/github_test.py`);
    /// github.com itself is out of reach from this machine.
    @Test(.enabled(if: TestEnvironment.isCI || pythonPackagesPresent, "needs python3 with pyjwt, requests"))
    func userSignsInThroughGitHubOAuth2AndTheLoginMapsToARole() async throws {
        let (server, directory) = try PythonScripts.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let (status, text) = try PythonScripts.run("oidc/github_test.py", ["http://127.0.0.1:\(port)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("github: all checks passed"), "\(text)")
    }
}
