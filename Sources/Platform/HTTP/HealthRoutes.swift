import Foundation
import Hummingbird
import NIOCore

/// `/health` (the process answers), `/ready` (database reachable and every migration applied; 503 otherwise)
/// and `/metrics` (Prometheus text format).
package struct HealthRoutes: Sendable {
    let database: any Database
    let migrations: [Migration]
    let metrics: HTTPMetrics
    let details: ReadinessDetails
    static let timeout: Duration = .seconds(2)

    package init(
        database: any Database, migrations: [Migration], metrics: HTTPMetrics,
        details: ReadinessDetails = ReadinessDetails()
    ) {
        self.details = details
        self.database = database
        self.migrations = migrations
        self.metrics = metrics
    }

    package func register(on routes: RouteRegistrar) {
        routes.get("/health") { _, _ in
            Self.json(status: .ok, #"{"status":"ok"}"#)
        }
        routes.get("/ready") { _, context in
            await self.readiness(context: context)
        }
        routes.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
    }

    /// Checks the database with a real query (the applied-migrations ledger) and reports each check.
    func readiness(context: AppRequestContext) async -> Response {
        let expected = migrations.count
        let database = self.database
        let migrations = self.migrations
        let logger = context.logger
        // A database that does not answer within the timeout is as good as down: answer 503 rather than hang.
        let outcome = await withTaskGroup(of: (database: String, migrations: String).self) { group in
            group.addTask {
                do {
                    // One statement, no transaction: the ledger read is the database check.
                    let applied = try await database.readOutsideTransaction { tx in
                        try await MigrationRunner.appliedChecksums(tx)
                    }
                    let pending = migrations.filter { applied[MigrationKey($0)] == nil }.count
                    return ("ok", pending == 0 ? "ok" : "\(pending) pending")
                } catch {
                    if (try? await database.ping()) != nil {
                        // The database answers but has no ledger yet: nothing has been migrated.
                        return ("ok", "\(expected) pending")
                    }
                    logger.warning(
                        "readiness check failed", metadata: ["error.message": "\(String(reflecting: error))"])
                    return ("unreachable", "unknown")
                }
            }
            group.addTask {
                try? await Task.sleep(for: Self.timeout)
                return ("timeout", "unknown")
            }
            let first = await group.next() ?? ("unreachable", "unknown")
            group.cancelAll()
            return first
        }
        let ready = outcome.database == "ok" && outcome.migrations == "ok"
        var body =
            #"{"status":"\#(ready ? "ready" : "not_ready")","checks":{"database":"\#(outcome.database)","migrations":"\#(outcome.migrations)"}"#
        let extra = details.snapshot()
        if !extra.isEmpty {
            let fields = extra.map { "\(Self.quoted($0.name)):\(Self.quoted($0.value))" }
            body += #","details":{"# + fields.joined(separator: ",") + "}"
        }
        body += "}"
        return Self.json(status: ready ? .ok : .serviceUnavailable, body)
    }

    /// A JSON string literal (the details are free text, e.g. an error message).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func json(status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
