import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import Platform

/// A `redis-server` child process on a free loopback port, which a test may kill and start again on the same port.
final class RedisTestServer: Sendable {
    static let executable = "/usr/bin/redis-server"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let port: Int
    let directory: URL
    private let arguments: [String]
    private let process = Mutex<ChildProcess?>(nil)

    private init(port: Int, directory: URL, arguments: [String]) {
        self.port = port
        self.directory = directory
        self.arguments = arguments
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts a server with `arguments` added to a no-persistence loopback setup; `tlsPort` means TLS on that port
    /// and no plain port (the arguments must then carry the certificate options).
    static func start(arguments: [String] = [], tls: Bool = false) async throws -> RedisTestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastError: any Error = TestRedisError("redis-server did not start")
        for _ in 0..<3 {
            let port = try await freePort()
            let portArguments = tls ? ["--port", "0", "--tls-port", String(port)] : ["--port", String(port)]
            let server = RedisTestServer(port: port, directory: directory, arguments: portArguments + arguments)
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw lastError
    }

    /// Runs the server (again) on the same port and waits until it accepts connections.
    func launch() async throws {
        let log = directory.appendingPathComponent("redis.log")
        try? FileManager.default.removeItem(at: log)
        let child = ChildProcess()
        child.executableURL = URL(fileURLWithPath: Self.executable)
        child.arguments =
            [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", directory.path, "--logfile", log.path,
            ] + arguments
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        process.withLock { $0 = child }
        for _ in 0..<200 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.contains("Ready to accept connections") { return }
            guard child.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        await stopProcess(signal: SIGKILL)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw TestRedisError("redis-server did not start on port \(port):\n\(text.suffix(2000))")
    }

    /// Kills the server without warning (the clients see their sockets reset) and waits until it is gone.
    func kill() async {
        await stopProcess(signal: SIGKILL)
    }

    func stop() async {
        await stopProcess(signal: SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Polls instead of `waitUntilExit()`, which would block a cooperative-pool thread.
    private func stopProcess(signal: Int32) async {
        guard let child = process.withLock({ $0 }) else { return }
        if child.isRunning { Foundation.kill(child.processIdentifier, signal) }
        for _ in 0..<250 where child.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if child.isRunning { Foundation.kill(child.processIdentifier, SIGKILL) }
        for _ in 0..<250 where child.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A port nobody listens on right now (the kernel picks it; the server binds it a moment later).
    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        guard let port else { throw TestRedisError("no local port") }
        return port
    }
}

/// Test setup failures: they fail the test rather than skip it.
struct TestRedisError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Starts a private server for `body` and always stops it.
@discardableResult
func withRedisServer<T>(
    arguments: [String] = [], tls: Bool = false, _ body: (RedisTestServer) async throws -> T
) async throws -> T {
    let server = try await RedisTestServer.start(arguments: arguments, tls: tls)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Builds a client for `url` (after `configure`), passes it to `body` and always shuts it down.
@discardableResult
func withRedisClient<T>(
    url: String, configure: (inout RedisConfiguration) -> Void = { _ in },
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    var configuration = try RedisConfiguration(url: url)
    // Generous: the suite shares two cores with other builds; timeout tests set their own.
    configuration.commandTimeout = .seconds(10)
    configuration.connectTimeout = .seconds(5)
    configure(&configuration)
    let client = try RedisClient(configuration: configuration, logger: TestEnvironment.logger)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Which Redis a test needs, and whether it runs here: skipped when missing outside CI, failing under `CI=true`.
enum RedisTestEnvironment {
    static var sharedServerAvailable: Bool { TestEnvironment.redisURL != nil || TestEnvironment.isCI }
    static var privateServersAvailable: Bool { RedisTestServer.isInstalled || TestEnvironment.isCI }

    /// The server `scripts/test` started.
    static func sharedURL() throws -> String {
        guard let url = TestEnvironment.redisURL else {
            throw TestRedisError("INOPSIO_TEST_REDIS_URL is not set (CI=true requires it): run scripts/test")
        }
        return url
    }

    /// A key no other test uses, so tests can share the server and run in parallel.
    static func key(_ name: String) -> String {
        "test:\(UUID().uuidString):\(name)"
    }
}
