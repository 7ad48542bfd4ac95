import Foundation
import TestSupport
import Testing

/// The web pages in a real Chromium, driven by Selenium (`Tests/browser/*.py`). Skipped (and reported as skipped)
/// outside CI when chromium, chromedriver or the selenium package is missing; under `CI=true` they are required,
/// since `.ci/run` installs them.
@Suite(.serialized) struct BrowserTests {
    static var browserAvailable: Bool {
        PythonScripts.canImport("selenium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    @Test(.enabled(if: TestEnvironment.isCI || browserAvailable, "needs chromium, chromedriver and selenium"))
    func signUpSignInEnrollTOTPSignInWithItAndInviteAUser() async throws {
        let (server, directory) = try PythonScripts.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let (status, text) = try PythonScripts.run(
            "browser/identity_test.py",
            ["http://127.0.0.1:\(port)", directory.appendingPathComponent("data/mail").path])
        #expect(status == 0, "\(text)")
        #expect(text.contains("browser: all checks passed"), "\(text)")
    }

    @Test(.enabled(if: TestEnvironment.isCI || browserAvailable, "needs chromium, chromedriver and selenium"))
    func createQualifyConvertAndWinADealOnTheBoardAndImportACSVFile() async throws {
        let (server, directory) = try PythonScripts.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let (status, text) = try PythonScripts.run("browser/crm_test.py", ["http://127.0.0.1:\(port)"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("browser: all checks passed"), "\(text)")
    }
}
