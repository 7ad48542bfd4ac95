import Foundation

/// Which behaviours of `smtp_server.py` a test wants.
package struct ServerOptions {
    package init(
        tls: Bool = false, implicitTLS: Bool = false, auth: String? = nil, authRequireTLS: Bool = false,
        authLoginOnly: Bool = false, rejectRecipients: [String] = [], failFirst: Int = 0, silent: Bool = false,
        fragment: Bool = false
    ) {
        self.tls = tls
        self.implicitTLS = implicitTLS
        self.auth = auth
        self.authRequireTLS = authRequireTLS
        self.authLoginOnly = authLoginOnly
        self.rejectRecipients = rejectRecipients
        self.failFirst = failFirst
        self.silent = silent
        self.fragment = fragment
    }
    package var tls = false
    package var implicitTLS = false
    package var auth: String?
    package var authRequireTLS = false
    package var authLoginOnly = false
    package var rejectRecipients: [String] = []
    package var failFirst = 0
    package var silent = false
    package var fragment = false

    package var arguments: [String] {
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
package struct TestServerError: Error, CustomStringConvertible {
    package var description: String
    package init(description: String) { self.description = description }
}

/// Envelope of a received message as the server saw it.
package struct ReceivedEnvelope: Decodable {
    package var mail_from: String
    package var rcpt_tos: [String]
    package var tls: Bool
}

/// What Python's `email` package makes of a received message.
package struct ParsedMessage: Decodable {
    package struct Address: Decodable, Equatable {
        package var name: String
        package var address: String

        package init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    package struct Part: Decodable {
        package var content_type: String
        package var charset: String?
        package var cte: String?
        package var content: String
    }

    package var subject: String
    package var from: [Address]
    package var to: [Address]
    package var message_id: String?
    package var date: String?
    package var mime_version: String?
    package var content_type: String
    package var is_multipart: Bool
    package var headers: [[String]]
    package var parts: [Part]
    package var defects: [String]
    package var max_line_length: Int
    package var bare_lf: Bool
}

/// A real aiosmtpd server in a child process on a free loopback port, with its own scratch directory.
package final class SMTPTestServer: Sendable {
    package static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("smtp_server.py").path

    package let directory: URL
    package let port: Int
    private let process: ChildProcess

    private init(directory: URL, port: Int, process: ChildProcess) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    package var caPath: String { directory.appendingPathComponent("ca.pem").path }

    package static func start(_ options: ServerOptions) async throws -> SMTPTestServer {
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
    package func stop() async {
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
    package var connectionCount: Int {
        let text = (try? String(contentsOf: directory.appendingPathComponent("connections.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    package var messageCount: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".eml") }.count
    }

    package func rawMessage(_ number: Int = 1) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent("msg-\(number).eml"))
    }

    package func envelope(_ number: Int = 1) throws -> ReceivedEnvelope {
        let data = try Data(contentsOf: directory.appendingPathComponent("msg-\(number).json"))
        return try JSONDecoder().decode(ReceivedEnvelope.self, from: data)
    }

    package func parsedMessage(_ number: Int = 1) async throws -> ParsedMessage {
        try await Self.parse(file: directory.appendingPathComponent("msg-\(number).eml").path)
    }

    /// Runs the script's `parse` mode so the message is judged by an independent MIME implementation.
    package static func parse(file: String) async throws -> ParsedMessage {
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
package func withSMTPServer<T>(
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
