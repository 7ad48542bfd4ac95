import Foundation
import Platform
import SQLKit
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The same binary pointed at PostgreSQL. Runs whenever scripts/test provides a server (always in CI).
@Suite(.serialized, .enabled(if: TestEnvironment.postgresURL != nil || TestEnvironment.isCI))
struct PostgresServeTests {
    @Test func serveOnPostgresAnswersEveryEndpoint() async throws {
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { url in
            let server = try InopsioProcess(["serve", "--port", "0"], environment: ["INOPSIO_DATABASE_URL": url])
            defer { server.terminate() }
            let port = try await server.waitForPort()
            #expect(server.stdout.contains("\"database\":\"postgres\""))
            #expect(try await HTTP.get(port, "/").0 == 200)
            #expect(try await HTTP.get(port, "/health").0 == 200)
            let (status, _, body) = try await HTTP.get(port, "/ready")
            #expect(status == 200, "\(body)")
            #expect(try await HTTP.get(port, "/metrics").0 == 200)
            #expect(!server.stdout.contains("bypasses row-level security"), "scripts/test connects as a non-superuser")
            server.signal(SIGTERM)
            #expect(await server.waitForExit() == 0)
        }
    }

    @Test func threeProcessesStartedAtOnceApplyEachMigrationExactlyOnce() async throws {
        try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { url in
            let processes = try (0..<3).map { _ in
                try InopsioProcess(["migrate"], environment: ["INOPSIO_DATABASE_URL": url])
            }
            for process in processes {
                #expect(await process.waitForExit() == 0, "\(process.stderr)")
            }
            let appliedLines = processes.flatMap { $0.stdout.split(separator: "\n") }.filter { $0.hasPrefix("applied") }
            let expected = try await knownMigrations()
            #expect(expected.count >= 2)
            #expect(appliedLines == expected.map { "applied  \($0)" })
            #expect(processes.filter { $0.stdout.contains("nothing to apply") }.count == 2)

            // And three servers started at once on the migrated-nowhere database all come up ready.
            try await withScratchPostgresDatabase(baseURL: try TestEnvironment.requirePostgresURL()) { fresh in
                let servers = try (0..<3).map { _ in
                    try InopsioProcess(["serve", "--port", "0"], environment: ["INOPSIO_DATABASE_URL": fresh])
                }
                defer { servers.forEach { $0.terminate() } }
                var applied = 0
                for server in servers {
                    let port = try await server.waitForPort()
                    #expect(try await HTTP.get(port, "/ready").0 == 200)
                    applied += server.stdout.components(separatedBy: "\"message\":\"applied migration\"").count - 1
                }
                #expect(applied == expected.count)
                for server in servers {
                    server.signal(SIGTERM)
                    #expect(await server.waitForExit() == 0)
                }
            }
        }
    }
}
