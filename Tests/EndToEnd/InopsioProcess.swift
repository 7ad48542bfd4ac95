import Foundation
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `inopsio` process started from the built binary, its output going to files the test can read.
final class InopsioProcess: @unchecked Sendable {
    let process = ChildProcess()
    let stdoutURL: URL
    let stderrURL: URL
    let workingDirectory: URL

    /// The built binary: `INOPSIO_BINARY`, else `.build/debug/inopsio` (or release) in this package.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["INOPSIO_BINARY"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for configuration in ["debug", "release"] {
            let candidate = root.appendingPathComponent(".build/\(configuration)/inopsio")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return root.appendingPathComponent(".build/debug/inopsio")
    }

    /// One key for every test installation on PostgreSQL (each test's database has its own registry).
    static let sharedSecretsKeys = "ktest0001:" + Data((0..<32).map { UInt8($0) }).base64EncodedString()

    /// Starts `inopsio arguments...` in `workingDirectory` with `environment` added to a clean environment
    /// (no `INOPSIO_*` variables leak in from the test runner).
    init(_ arguments: [String], environment: [String: String] = [:], workingDirectory: URL? = nil) throws {
        let directory =
            workingDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.workingDirectory = directory
        stdoutURL = directory.appendingPathComponent("stdout.log")
        stderrURL = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INOPSIO_") }
        env.merge(environment) { $1 }
        // The processes of one installation on PostgreSQL share its secrets keys, as the README tells operators
        // (each would otherwise make a key file of its own in its working directory, and all but the first would be
        // refused at start). Tests that are about the keys set them themselves.
        if env["INOPSIO_DATABASE_URL"] != nil, env["INOPSIO_SECRETS_KEYS"] == nil,
            env["INOPSIO_SECRETS_KEY_FILE"] == nil
        {
            env["INOPSIO_SECRETS_KEYS"] = Self.sharedSecretsKeys
        }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit (up to `timeout`), returning its exit status, or nil if it is still running.
    func waitForExit(timeout: Duration = .seconds(60)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until the server logs its listening line and returns the port it bound.
    func waitForPort(timeout: Duration = .seconds(60)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in stdout.split(separator: "\n") where line.contains("\"message\":\"listening\"") {
                if let match = line.firstMatch(of: /"server.port":"(\d+)"/), let port = Int(match.1) { return port }
            }
            if !process.isRunning { throw E2EError.exited(process.terminationStatus, stderr + stdout) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw E2EError.timeout("no listening line in \(stdout)")
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: workingDirectory)
    }
}

enum E2EError: Error, CustomStringConvertible {
    case exited(Int32, String)
    case timeout(String)

    var description: String {
        switch self {
        case .exited(let code, let output): "inopsio exited with \(code): \(output)"
        case .timeout(let detail): "timed out: \(detail)"
        }
    }
}

/// Every migration the binary knows, as `inopsio migrate --status` lists them (`platform#1 create_tenants`, ...),
/// read from a fresh data directory so the tests need no copy of the list.
func knownMigrations() async throws -> [String] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-status-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let status = try InopsioProcess(
        ["migrate", "--status", "--data-dir", directory.path], environment: ["INOPSIO_AUTO_MIGRATE": "false"])
    _ = await status.waitForExit()
    return status.stdout.split(separator: "\n").compactMap { line in
        line.hasPrefix("pending")
            ? line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ") : nil
    }
}

/// A minimal HTTP client for the tests (Foundation's URLSession).
enum HTTP {
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    static func get(_ port: Int, _ path: String, headers: [String: String] = [:]) async throws -> (
        Int, [String: String], String
    ) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await send(request)
    }

    /// A JSON request; the body is serialised with JSONSerialization.
    static func json(
        _ method: String, _ port: Int, _ path: String, _ body: [String: Any]? = nil, token: String? = nil
    ) async throws -> (Int, [String: String], [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (status, headers, text) = try await send(request)
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (status, headers, object)
    }

    static func send(_ request: URLRequest) async throws -> (Int, [String: String], String) {
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            headers[String(describing: key).lowercased()] = String(describing: value)
        }
        return (http.statusCode, headers, String(decoding: data, as: UTF8.self))
    }
}
