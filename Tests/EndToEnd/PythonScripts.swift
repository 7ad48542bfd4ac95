import Foundation
import TestSupport

/// The Python checks under `Tests/` (client libraries, the second provider, the browser), run against real
/// `inopsio` processes. Outside CI a test is skipped when its packages are missing; under `CI=true` it runs (and
/// fails) regardless, since `.ci/run` installs `Tests/requirements.txt`.
enum PythonScripts {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// Whether `python3` can import every one of `modules`.
    static func canImport(_ modules: String...) -> Bool {
        let probe = ChildProcess()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import " + modules.joined(separator: ", ")]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    /// Runs `Tests/<path>` with `arguments`; its exit status and combined output.
    static func run(_ path: String, _ arguments: [String]) throws -> (Int32, String) {
        let python = ChildProcess()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments =
            ["python3", "-W", "ignore::DeprecationWarning", testsDirectory.appendingPathComponent(path).path]
            + arguments
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
            "inopsio-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = try InopsioProcess([
            "serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path,
        ])
        return (server, directory)
    }
}
