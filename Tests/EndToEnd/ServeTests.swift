import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The binary as an operator runs it: real processes, real sockets, real signals.
@Suite(.serialized) struct ServeTests {
    @Test func freshDirectoryGetsADataFolderAndEveryEndpointAnswers() async throws {
        let server = try InopsioProcess(["serve", "--port", "0"])
        defer { server.terminate() }
        let port = try await server.waitForPort()
        #expect(
            FileManager.default.fileExists(
                atPath: server.workingDirectory.appendingPathComponent("data/inopsio.sqlite").path))

        let (homeStatus, homeHeaders, home) = try await HTTP.get(port, "/", headers: ["Accept": "text/html"])
        #expect(homeStatus == 200)
        #expect(homeHeaders["content-type"] == "text/html; charset=utf-8")
        #expect(home.contains("Inopsio"))
        #expect(try await HTTP.get(port, "/health").0 == 200)
        let (readyStatus, _, ready) = try await HTTP.get(port, "/ready")
        #expect(readyStatus == 200)
        #expect(ready.contains("\"ready\""))
        let (_, _, metrics) = try await HTTP.get(port, "/metrics")
        #expect(metrics.contains("http_requests_total{route=\"/ready\",method=\"GET\",status=\"200\"} 1"))

        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
        #expect(server.stdout.contains("\"message\":\"request\""), "access log lines are written")
    }

    @Test func badInputGetsTheDocumentedErrorsOverTheWire() async throws {
        let server = try InopsioProcess(["serve", "--port", "0"], environment: ["INOPSIO_MAX_BODY_BYTES": "1k"])
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let (notFound, headers, body) = try await HTTP.get(port, "/api/v1/missing")
        #expect(notFound == 404)
        #expect(headers["content-type"] == "application/problem+json")
        #expect(body.contains("\"status\":404"))

        var post = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/health")!)
        post.httpMethod = "POST"
        #expect(try await HTTP.send(post).0 == 405)

        var big = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/anything")!)
        big.httpMethod = "POST"
        big.setValue("application/json", forHTTPHeaderField: "Content-Type")
        big.httpBody = Data(repeating: 0x61, count: 4096)
        let (tooLarge, largeHeaders, _) = try await HTTP.send(big)
        #expect(tooLarge == 413)
        #expect(largeHeaders["content-type"] == "application/problem+json")
        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
    }

    @Test(
        arguments: [
            (["serve", "--port", "eighty"], [:], "port"),
            (["serve"], ["INOPSIO_LOG_LEVEL": "loud"], "log_level"),
            (["serve"], ["INOPSIO_DATABASE_URL": "mysql://db/x"], "database_url"),
            (["serve", "--modules", "website,payroll"], [:], "modules"),
            (["config", "print"], ["INOPSIO_PROT": "1"], "INOPSIO_PROT"),
        ] as [([String], [String: String], String)])
    func invalidConfigurationStopsWithOneLineAndExitCode2(
        _ arguments: [String], _ environment: [String: String], _ key: String
    ) async throws {
        let process = try InopsioProcess(arguments, environment: environment)
        #expect(await process.waitForExit() == 2)
        let lines = process.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(process.stderr)")
        #expect(lines.first?.contains(key) == true)
        #expect(!process.stderr.contains("Fatal error"))
    }

    @Test func sigtermDuringLoadExitsZeroAndNoAnsweredRequestFails() async throws {
        let server = try InopsioProcess(["serve", "--port", "0"], environment: ["INOPSIO_ACCESS_LOG": "false"])
        defer { server.terminate() }
        let port = try await server.waitForPort()
        let clock = ContinuousClock()
        let signalAt = clock.now + .milliseconds(1500)
        let outcomes = await withTaskGroup(of: (ok: Int, bad: Int, transport: Int).self) { group in
            for _ in 0..<16 {
                group.addTask {
                    var tally = (ok: 0, bad: 0, transport: 0)
                    // Keep sending until the server is gone (connection refused) or a deadline passes.
                    let deadline = clock.now + .seconds(20)
                    while clock.now < deadline {
                        do {
                            let (status, _, _) = try await HTTP.get(port, "/ready")
                            if status == 200 { tally.ok += 1 } else { tally.bad += 1 }
                        } catch {
                            tally.transport += 1
                            if clock.now > signalAt { break }
                        }
                    }
                    return tally
                }
            }
            group.addTask {
                try? await Task.sleep(until: signalAt)
                server.signal(SIGTERM)
                return (0, 0, 0)
            }
            return await group.reduce(into: (ok: 0, bad: 0, transport: 0)) {
                $0.ok += $1.ok
                $0.bad += $1.bad
                $0.transport += $1.transport
            }
        }
        #expect(await server.waitForExit(timeout: .seconds(40)) == 0)
        #expect(outcomes.ok > 0)
        #expect(outcomes.bad == 0, "every request the server answered succeeded")
        print(
            "sigterm under load: \(outcomes.ok) ok, \(outcomes.bad) failed, \(outcomes.transport) not connected after shutdown"
        )
    }

    @Test func commandLineToolsWork() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inopsio-cli-\(UUID().uuidString)")
        let version = try InopsioProcess(["version"])
        #expect(await version.waitForExit() == 0)
        #expect(version.stdout.hasPrefix("inopsio "))

        let status = try InopsioProcess(["migrate", "--status"], workingDirectory: directory)
        #expect(await status.waitForExit() == 0)
        #expect(status.stdout.contains("pending  platform#1 create_tenants"))
        let migrate = try InopsioProcess(["migrate"], workingDirectory: directory)
        #expect(await migrate.waitForExit() == 0)
        #expect(migrate.stdout.contains("applied  platform#1 create_tenants"))

        let create = try InopsioProcess(
            ["tenant", "create", "--slug", "acme", "--name", "Acme Ltd"], workingDirectory: directory)
        #expect(await create.waitForExit() == 0)
        #expect(create.stdout.contains("\"slug\":\"acme\""))
        let duplicate = try InopsioProcess(
            ["tenant", "create", "--slug", "acme", "--name", "Again"], workingDirectory: directory)
        #expect(await duplicate.waitForExit() == 1)
        #expect(duplicate.stderr.contains("already exists"))
        let invalid = try InopsioProcess(
            ["tenant", "create", "--slug", "A!", "--name", "X"], workingDirectory: directory)
        #expect(await invalid.waitForExit() == 1)
        #expect(invalid.stderr.contains("slug:"))
        let list = try InopsioProcess(["tenant", "list"], workingDirectory: directory)
        #expect(await list.waitForExit() == 0)
        #expect(list.stdout.contains("Acme Ltd"))

        let config = try InopsioProcess(
            ["config", "print", "--data-dir", "/srv/inopsio"],
            environment: [
                "INOPSIO_DATABASE_URL": "postgres://app:s3cret@db.example:5432/inopsio", "INOPSIO_PORT": "9090",
            ])
        #expect(await config.waitForExit() == 0)
        #expect(!config.stdout.contains("s3cret"))
        #expect(config.stdout.contains("REDACTED"))
        #expect(config.stdout.contains("9090  (INOPSIO_PORT)"))
        #expect(config.stdout.contains("/srv/inopsio  (--data-dir)"))
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Several processes on one SQLite file.
@Suite(.serialized) struct ServeEdgeTests {
    @Test func threeMigrateProcessesOnOneSQLiteFileApplyEachMigrationOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inopsio-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let processes = try (0..<3).map { _ in try InopsioProcess(["migrate", "--data-dir", data]) }
        for process in processes {
            #expect(await process.waitForExit() == 0, "\(process.stderr)")
        }
        let applied = processes.flatMap { $0.stdout.split(separator: "\n") }.filter { $0.hasPrefix("applied") }
        let expected = try await knownMigrations()
        #expect(expected.count >= 2)
        #expect(applied == expected.map { "applied  \($0)" })
    }
}

/// What an operator sees when the database is not there.
@Suite struct UnreachableDatabaseTests {
    @Test func unreachablePostgresStopsStartUpWithOneClearLine() async throws {
        // Port 1 on loopback refuses connections; the pool would retry forever without the start-up deadline.
        let process = try InopsioProcess(
            ["serve", "--port", "0"],
            environment: [
                "INOPSIO_DATABASE_URL": "postgres://app:secret@127.0.0.1:1/inopsio?sslmode=disable",
                "INOPSIO_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
            ])
        #expect(await process.waitForExit(timeout: .seconds(30)) == 1)
        let lastLine = process.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(lastLine.contains("no connection to the database at postgres://app:REDACTED@127.0.0.1:1"))
        #expect(!process.stderr.contains("secret"))
        #expect(!process.stdout.contains("secret"))
    }
}
