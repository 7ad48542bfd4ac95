import Foundation
import Kernel
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// PostgreSQL through PostgresNIO's connection pool. Each tenant transaction sets `app.tenant_id` with
/// `set_config(..., true)`, the bind-safe form of `SET LOCAL`, which the row-level security policies of
/// tenant-owned tables read. System transactions set nothing, so they see no tenant-owned rows at all.
package final class PostgresDatabase: Database {
    package var dialect: DatabaseDialect { .postgres }

    let client: PostgresClient
    private let logger: Logger
    private let notifier: CoalescingNotifier

    /// Builds the pool; nothing connects until `run()` is running (see `DatabaseConnector`).
    package init(url: String, poolSize: Int, logger: Logger) throws {
        var configuration = try PostgresURL.parse(url)
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.minimumConnections = 0
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.notifier = CoalescingNotifier(client: client, logger: logger)
    }

    /// Runs the pool until the surrounding task is cancelled.
    package func run() async {
        await client.run()
    }

    package func write<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await transaction(begin: "BEGIN", tenant: tenant, body)
    }

    package func read<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await transaction(begin: "BEGIN READ ONLY", tenant: tenant, body)
    }

    package func system<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN", tenant: nil, body)
    }

    package func systemRead<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN READ ONLY", tenant: nil, body)
    }

    package func readOutsideTransaction<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws
        -> T
    {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await body(
                Transaction(
                    sql: connection.sql(queryLogLevel: .trace, logger: logger), dialect: .postgres, tenant: nil,
                    afterCommit: nil, postgres: PostgresAccess(connection: connection, logger: logger))
            )
        }
    }

    package func writeOutsideTransaction<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws
        -> T
    {
        try await readOutsideTransaction(body)
    }

    private func transaction<T: Sendable>(
        begin: PostgresQuery, tenant: TenantID?, _ body: @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        let afterCommit = AfterCommit()
        let result = try await client.withConnection { connection in
            try await connection.query(begin, logger: logger)
            do {
                if let tenant {
                    try await connection.query(
                        "SELECT set_config('app.tenant_id', \(tenant.description), true)", logger: logger)
                }
                let sql = connection.sql(queryLogLevel: .trace, logger: logger)
                let result = try await body(
                    Transaction(
                        sql: sql, dialect: .postgres, tenant: tenant, afterCommit: afterCommit,
                        postgres: PostgresAccess(connection: connection, logger: logger)))
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                do {
                    // In a task of its own, so that a cancelled caller still ends the transaction before the
                    // connection goes back to the pool.
                    try await Task { _ = try await connection.query("ROLLBACK", logger: logger) }.value
                } catch {
                    logger.error("rollback failed", metadata: ["error.message": "\(String(reflecting: error))"])
                }
                throw error
            }
        }
        for notification in afterCommit.notifications {
            notifier.send(channel: notification.channel, payload: notification.payload)
        }
        return result
    }

    package func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }

    package func listen(channel: String, received: @escaping @Sendable (String) -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                for try await notification in notifications { received(notification.payload) }
            }
        }
    }

    /// Whether the connected role bypasses row-level security (a superuser or `BYPASSRLS`), which would make
    /// the tenant policies a no-op. Start-up warns when it does.
    package func roleBypassesRowLevelSecurity() async throws -> Bool {
        let rows = try await client.query(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", logger: logger)
        for try await (bypasses) in rows.decode(Bool.self) {
            return bypasses
        }
        return false
    }

    package func close() async {}
}

/// Sends the notifications transactions asked for after their commits (`Transaction.notifyAfterCommit`): one at a
/// time per channel and payload, each send covering every request made while the one before was under way.
final class CoalescingNotifier: Sendable {
    private struct Key: Hashable {
        let channel: String
        let payload: String
    }

    private let client: PostgresClient
    private let logger: Logger
    /// The sends under way, and whether another was asked for since each started.
    private let sending = Mutex<[Key: Bool]>([:])

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func send(channel: String, payload: String) {
        let key = Key(channel: channel, payload: payload)
        let start = sending.withLock { sending -> Bool in
            if sending[key] != nil {
                sending[key] = true
                return false
            }
            sending[key] = false
            return true
        }
        guard start else { return }
        // Detached: not the committing request's task, its trace or its priority.
        Task.detached { [self] in
            repeat {
                do {
                    try await client.query("SELECT pg_notify(\(channel), \(payload))", logger: logger)
                } catch {
                    // A hint only: the listeners poll as well.
                    logger.debug(
                        "notification not sent", metadata: ["error.message": "\(String(reflecting: error))"])
                }
            } while sending.withLock { sending -> Bool in
                if sending[key] == true {
                    sending[key] = false
                    return true
                }
                sending[key] = nil
                return false
            }
        }
    }
}

/// Parses `postgres://user:password@host:port/database?sslmode=...` into a pool configuration.
enum PostgresURL {
    static func parse(_ text: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw DatabaseError.invalidURL("not a URL")
        }
        guard scheme == "postgres" || scheme == "postgresql" else { throw DatabaseError.unsupportedScheme(scheme) }
        guard let host = components.host, !host.isEmpty else { throw DatabaseError.invalidURL("missing host") }
        guard let username = components.user, !username.isEmpty else {
            throw DatabaseError.invalidURL("missing user name")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        // The same meanings as libpq: prefer/require encrypt without verifying the certificate, verify-ca checks
        // the chain, verify-full also the host name.
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable":
            tls = .disable
        case "allow", "prefer":
            tlsConfiguration.certificateVerification = .none
            tls = .prefer(tlsConfiguration)
        case "require":
            tlsConfiguration.certificateVerification = .none
            tls = .require(tlsConfiguration)
        case "verify-ca":
            tlsConfiguration.certificateVerification = .noHostnameVerification
            tls = .require(tlsConfiguration)
        case "verify-full":
            tls = .require(tlsConfiguration)
        default:
            throw DatabaseError.invalidURL("unknown sslmode \(sslMode)")
        }
        return PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: username.removingPercentEncoding ?? username,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? nil : database,
            tls: tls
        )
    }
}
