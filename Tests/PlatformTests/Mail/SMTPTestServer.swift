import Foundation
import TestSupport
import Testing

/// Which behaviours of `smtp_server.py` a test wants.
struct ServerOptions {
    var tls = false
    var implicitTLS = false
    var auth: String?
    var authRequireTLS = false
    var authLoginOnly = false
    var rejectRecipients: [String] = []
    var failFirst = 0
    var silent = false
    var fragment = false

    var arguments: [String] {
        var args: [String] = []
        if tls { args.append("--tls") }
        if implicitTLS { args.append("--implicit-tls") }
        if let auth { args += ["--auth", auth] }
        if authRequireTLS { args.append("--auth-require-tls") }
        if authLoginOnly { args.append("--auth-login-only") }
        for address in rejectRecipients { args += ["--reject-rcpt", address] }
        if failFirst > 0 { args += ["--fail-first", String(failFirst)] }
        if silent { args.append("--silent") }
        if fragment { args.append("--fragment") }
        return args
    }
}

/// Raised when the Python side cannot be started or answers nonsense: tests fail rather than skip.
struct TestServerError: Error, CustomStringConvertible {
    var description: String
}

/// Envelope of a received message as the server saw it.
struct ReceivedEnvelope: Decodable {
    var mail_from: String
    var rcpt_tos: [String]
    var tls: Bool
}

/// What Python's `email` package makes of a received message.
struct ParsedMessage: Decodable {
    struct Address: Decodable, Equatable {
        var name: String
        var address: String
    }

    struct Part: Decodable {
        var content_type: String
        var charset: String?
        var cte: String?
        var content: String
    }

    var subject: String
    var from: [Address]
    var to: [Address]
    var message_id: String?
    var date: String?
    var mime_version: String?
    var content_type: String
    var is_multipart: Bool
    var headers: [[String]]
    var parts: [Part]
    var defects: [String]
    var max_line_length: Int
    var bare_lf: Bool
}

/// A real aiosmtpd server in a child process on a free loopback port, with its own scratch directory.
final class SMTPTestServer: Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("smtp_server.py").path

    let directory: URL
    let port: Int
    private let process: ChildProcess

    private init(directory: URL, port: Int, process: ChildProcess) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    var caPath: String { directory.appendingPathComponent("ca.pem").path }

    static func start(_ options: ServerOptions) async throws -> SMTPTestServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailtests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "serve", "--dir", directory.path] + options.arguments
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        try logHandle.close()
        let portFile = directory.appendingPathComponent("port")
        for _ in 0..<300 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return SMTPTestServer(directory: directory, port: port, process: process)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw TestServerError(description: "smtp_server.py did not start:\n\(output)")
    }

    /// Polls instead of `waitUntilExit()`, which blocks a cooperative-pool thread (only 2 on a 2-core machine).
    func stop() async {
        if process.isRunning {
            process.terminate()
            for _ in 0..<100 where process.isRunning {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Number of TCP connections the server accepted, to prove how many attempts were made.
    var connectionCount: Int {
        let text = (try? String(contentsOf: directory.appendingPathComponent("connections.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    var messageCount: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".eml") }.count
    }

    func rawMessage(_ number: Int = 1) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent("msg-\(number).eml"))
    }

    func envelope(_ number: Int = 1) throws -> ReceivedEnvelope {
        let data = try Data(contentsOf: directory.appendingPathComponent("msg-\(number).json"))
        return try JSONDecoder().decode(ReceivedEnvelope.self, from: data)
    }

    func parsedMessage(_ number: Int = 1) async throws -> ParsedMessage {
        try await Self.parse(file: directory.appendingPathComponent("msg-\(number).eml").path)
    }

    /// Runs the script's `parse` mode so the message is judged by an independent MIME implementation.
    static func parse(file: String) async throws -> ParsedMessage {
        let output = URL(fileURLWithPath: file + ".parsed.json")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "parse", file]
        process.standardOutput = handle
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try handle.close()
        guard status == 0 else { throw TestServerError(description: "parse failed with status \(status)") }
        return try JSONDecoder().decode(ParsedMessage.self, from: Data(contentsOf: output))
    }
}

/// Starts a server for the duration of `body` and always stops it.
func withSMTPServer<T>(
    _ options: ServerOptions = ServerOptions(), _ body: (SMTPTestServer) async throws -> T
) async throws -> T {
    let server = try await SMTPTestServer.start(options)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
