import Foundation
import TestSupport
import Testing

/// The web pages in a real Chromium, driven by Selenium (`Tests/browser/*.py`). Skipped (and reported as skipped)
/// outside CI when chromium, chromedriver or the selenium package is missing; under `CI=true` they are required,
/// since `.ci/run` installs them.
@Suite(.serialized) struct BrowserTests {
    static var browserAvailable: Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import selenium"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    @Test(.enabled(if: TestEnvironment.isCI || browserAvailable, "needs chromium, chromedriver and selenium"))
    func signUpSignInEnrollTOTPSignInWithItAndInviteAUser() async throws {
        let (server, directory) = try OIDCClientLibraryTests.startServer()
        defer {
            server.terminate()
            try? FileManager.default.removeItem(at: directory)
        }
        let port = try await server.waitForPort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("browser/identity_test.py")
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", script.path, "http://127.0.0.1:\(port)", directory.appendingPathComponent("data/mail").path,
        ]
        let output = Pipe()
        python.standardOutput = output
        python.standardError = output
        try python.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(python.terminationStatus == 0, "\(text)")
        #expect(text.contains("browser: all checks passed"), "\(text)")
    }
}
