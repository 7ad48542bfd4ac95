import Foundation
import TestSupport
import Testing

/// HTTPS termination by the binary itself: HTTP/2 and HTTP/1.1 by ALPN, and a renewed certificate picked up
/// without a restart. Uses the `openssl` and `curl` commands (installed by .ci/run).
@Suite(.serialized, .enabled(if: TLSTools.available))
struct TLSServeTests {
    @Test func servesHTTP2OverTLSAndPicksUpARenewedCertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try TLSTools.makeCertificate(organization: "First", certificate: certificate, key: key)

        let server = try InopsioProcess(
            [
                "serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path,
                "--tls-certificate", certificate, "--tls-key", key,
            ])
        defer { server.terminate() }
        let port = try await server.waitForPort()

        let first = try TLSTools.curl(["--http2", "--cacert", certificate, "https://localhost:\(port)/health"])
        #expect(first.contains("< HTTP/2 200"), "\(first)")
        #expect(first.contains("O=First"))
        #expect(first.contains("strict-transport-security"))
        let http1 = try TLSTools.curl(["--http1.1", "--cacert", certificate, "https://localhost:\(port)/health"])
        #expect(http1.contains("< HTTP/1.1 200"), "\(http1)")

        // Renew: new files in place; within the reload interval new connections get the new certificate.
        let renewedCertificate = directory.appendingPathComponent("new-cert.pem").path
        let renewedKey = directory.appendingPathComponent("new-key.pem").path
        try TLSTools.makeCertificate(organization: "Second", certificate: renewedCertificate, key: renewedKey)
        // rename(2) replaces each file atomically, as certificate renewal tools do.
        #expect(rename(renewedKey, key) == 0)
        #expect(rename(renewedCertificate, certificate) == 0)
        var renewed = ""
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(500))
            renewed = try TLSTools.curl(["--http2", "--cacert", certificate, "https://localhost:\(port)/health"])
            if renewed.contains("O=Second") { break }
        }
        #expect(renewed.contains("O=Second") && renewed.contains("< HTTP/2 200"), "\(renewed)")
        // The log line may reach the file a moment after the new certificate is served.
        for _ in 0..<40 where !server.stdout.contains("TLS certificate reloaded") {
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(server.stdout.contains("TLS certificate reloaded"))
    }

    /// A gateway terminating TLS in front of a remote module: HTTP/1.1 requests take the fast path (the
    /// `gateway_fast_path_requests_total` metric says so), HTTP/2 requests the ordinary path; both are answered.
    @Test func aTLSGatewayProxiesHTTP1OnTheFastPathAndHTTP2() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try TLSTools.makeCertificate(organization: "Edge", certificate: certificate, key: key)
        let module = try InopsioProcess(
            ["serve", "--port", "0", "--modules", "identity", "--data-dir", directory.appendingPathComponent("m").path])
        defer { module.terminate() }
        let modulePort = try await module.waitForPort()
        let gateway = try InopsioProcess(
            [
                "serve", "--port", "0", "--modules", "gateway", "--data-dir",
                directory.appendingPathComponent("g").path,
                "--upstream", "identity=http://127.0.0.1:\(modulePort)", "--tls-certificate", certificate,
                "--tls-key", key,
            ])
        defer { gateway.terminate() }
        let port = try await gateway.waitForPort()
        let url = "https://localhost:\(port)/.well-known/openid-configuration"
        for version in ["--http1.1", "--http2", "--http1.1"] {
            let body = try TLSTools.run(
                "/usr/bin/curl", ["-s", "--max-time", "10", version, "--cacert", certificate, url])
            #expect(body.contains("\"issuer\""), "\(version): \(body)")
        }
        let metrics = try TLSTools.run(
            "/usr/bin/curl",
            ["-s", "--max-time", "10", "--http1.1", "--cacert", certificate, "https://localhost:\(port)/metrics"])
        let fast = metrics.split(separator: "\n").filter { $0.hasPrefix("gateway_fast_path_requests_total{") }
        #expect(fast.count == 1 && fast.first?.hasSuffix(" 2") == true, "\(fast)")
    }
}

enum TLSTools {
    static var available: Bool {
        TestEnvironment.isCI
            || ["/usr/bin/openssl", "/usr/bin/curl"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A self-signed certificate for localhost (it is its own CA for curl's --cacert).
    static func makeCertificate(organization: String, certificate: String, key: String) throws {
        let output = try run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-keyout", key, "-out", certificate, "-subj", "/O=\(organization)/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost",
            ])
        guard FileManager.default.fileExists(atPath: certificate) else { throw E2EError.timeout("openssl: \(output)") }
    }

    /// `curl -sv` output (headers and TLS details on stderr, merged).
    static func curl(_ arguments: [String]) throws -> String {
        try run("/usr/bin/curl", ["-sv", "-o", "/dev/null", "--max-time", "10"] + arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
