import Foundation
import Hummingbird
import NIOCore

/// `/health` (the process answers), `/ready` (database reachable and every migration applied; 503 otherwise)
/// and `/metrics` (Prometheus text format).
public struct HealthRoutes: Sendable {
    let database: any Database
    let migrations: [Migration]
    let metrics: HTTPMetrics

    public init(database: any Database, migrations: [Migration], metrics: HTTPMetrics) {
        self.database = database
        self.migrations = migrations
        self.metrics = metrics
    }

    public func register(on routes: RouteRegistrar) {
        routes.get("/health") { _, _ in
            Self.json(status: .ok, #"{"status":"ok"}"#)
        }
        routes.get("/ready") { _, context in
            await self.readiness(context: context)
        }
        routes.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
    }

    /// Checks the database with a real query (the applied-migrations ledger) and reports each check.
    func readiness(context: AppRequestContext) async -> Response {
        let expected = migrations.count
        let database = self.database
        let outcome: (database: String, migrations: String)
        do {
            let status = try await database.systemRead { tx -> (String, String) in
                guard try await MigrationRunner.tableExists(tx) else { return ("ok", "\(expected) pending") }
                let applied = try await MigrationRunner.appliedChecksums(tx)
                let pending = migrations.filter { applied[MigrationKey($0)] == nil }.count
                return ("ok", pending == 0 ? "ok" : "\(pending) pending")
            }
            outcome = (status.0, status.1)
        } catch {
            context.logger.warning("readiness check failed", metadata: ["error.message": "\(String(reflecting: error))"])
            outcome = ("unreachable", "unknown")
        }
        let ready = outcome.database == "ok" && outcome.migrations == "ok"
        let body =
            #"{"status":"\#(ready ? "ready" : "not_ready")","checks":{"database":"\#(outcome.database)","migrations":"\#(outcome.migrations)"}}"#
        return Self.json(status: ready ? .ok : .serviceUnavailable, body)
    }

    static func json(status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
