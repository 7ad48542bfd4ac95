import Foundation
import TestSupport
import Testing

@testable import Platform

/// `rediss://` against a redis-server with TLS, using a throwaway CA made with the `openssl` command.
@Suite(.enabled(if: RedisTestEnvironment.privateServersAvailable, "needs /usr/bin/redis-server"))
struct RedisTLSTests {
    @Test func redissConnectsWhenTheCAIsTrusted() async throws {
        try await withTLSServer { server, certificates in
            try await withRedisClient(
                url: "rediss://127.0.0.1:\(server.port)",
                configure: {
                    $0.trustCertificateAuthorities(pemFile: certificates.appendingPathComponent("ca.pem").path)
                }
            ) { redis async throws in
                #expect(try await redis.send(["SET", "tls", "yes"]).string == "OK")
                #expect(try await redis.send(["GET", "tls"]).string == "yes")
                #expect(
                    try await redis.send(["CLIENT", "INFO"]).string?.contains("laddr=127.0.0.1:\(server.port)") == true)
            }
        }
    }

    @Test func untrustedCertificateIsATLSError() async throws {
        try await withTLSServer { server, _ in
            try await withRedisClient(url: "rediss://127.0.0.1:\(server.port)") { redis in
                let error = await #expect(throws: RedisError.self) { try await redis.ping() }
                guard case .tls = error else {
                    Issue.record("unexpected \(String(describing: error))")
                    return
                }
            }
        }
    }

    /// Generates a CA and a server certificate for 127.0.0.1 in a temp directory, then starts a TLS-only server.
    func withTLSServer(_ body: (RedisTestServer, URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(
            ["req", "-x509"] + ec + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Inopsio Redis Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], in: directory)
        try await openssl(
            ["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: directory)
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
            .write(to: directory.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        try await openssl(
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
            ], in: directory)
        let file = { (name: String) in directory.appendingPathComponent(name).path }
        let arguments = [
            "--tls-cert-file", file("server.pem"), "--tls-key-file", file("server.key"),
            "--tls-ca-cert-file", file("ca.pem"), "--tls-auth-clients", "no",
        ]
        try await withRedisServer(arguments: arguments, tls: true) { server in
            try await body(server, directory)
        }
    }

    func openssl(_ arguments: [String], in directory: URL) async throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
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
        guard status == 0 else { throw TestRedisError("openssl \(arguments.joined(separator: " ")) failed: \(status)") }
    }
}
