import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import ServiceLifecycle
import Synchronization

/// The sessions this process's verifier must refuse although their access tokens are still signed and unexpired:
/// ended by sign-out, by an admin, by a password reset or deactivation, or for a reused refresh token. Access
/// tokens are verified locally (and cached), so without this a revoked session's newest token would work until it
/// expires (up to 15 minutes).
///
/// Every revocation is written to `identity_revoked_sessions` in the transaction that ends the session, and on
/// PostgreSQL announced with `NOTIFY` on commit; each process's `RevokedSessionsFeed` keeps this set from both.
/// An entry is kept for as long as an access token of the session could still be valid (`retention`).
final class RevokedSessions: Sendable {
    static let channel = "inopsio_identity_session_revoked"

    /// Session id → when it was revoked (epoch milliseconds).
    private let revoked = Mutex<[String: Int64]>([:])
    /// The longest time an access token outlives its session's revocation: its lifetime plus clock leeway.
    let retention: TimeInterval

    init(retention: TimeInterval) {
        self.retention = retention
    }

    func contains(_ sessionID: String) -> Bool {
        revoked.withLock { $0[sessionID] != nil }
    }

    func insert(_ sessionID: String, revokedAt: Int64) {
        revoked.withLock { $0[sessionID] = revokedAt }
    }

    /// Forgets revocations older than `retention` (their tokens have expired anyway).
    func prune(now: Date) {
        let cutoff = now.addingTimeInterval(-retention).epochMilliseconds
        revoked.withLock { entries in entries = entries.filter { $0.value >= cutoff } }
    }

    var count: Int { revoked.withLock { $0.count } }

    /// Records revocations inside the transaction that ends the sessions, and announces them on commit.
    static func publish(_ sessionIDs: [String], now: Date, in tx: Transaction) async throws {
        for id in sessionIDs {
            try await tx.sql.raw(
                """
                INSERT INTO identity_revoked_sessions (session_id, revoked_at)
                VALUES (\(bind: id), \(bind: now.epochMilliseconds)) ON CONFLICT (session_id) DO NOTHING
                """
            ).run()
            // PostgreSQL delivers notifications only when (and if) the transaction commits.
            if tx.dialect == .postgres {
                try await tx.sql.raw("SELECT pg_notify(\(bind: channel), \(bind: id))").run()
            }
        }
    }

    /// Reads the revocations made since `since` (epoch milliseconds) into the set.
    func load(since: Int64, database: any Database) async throws {
        let rows = try await database.readOutsideTransaction { tx in
            try await tx.sql.raw(
                """
                SELECT session_id, revoked_at FROM identity_revoked_sessions WHERE revoked_at >= \(bind: since)
                """
            ).all()
        }
        for row in rows {
            insert(
                try row.decode(column: "session_id", as: String.self),
                revokedAt: try row.decode(column: "revoked_at", as: Int64.self))
        }
    }

    /// Removes rows no verifier needs any more (daily maintenance); returns how many.
    static func deleteExpired(retention: TimeInterval, now: Date, database: any Database) async throws -> Int {
        let cutoff = now.addingTimeInterval(-retention).epochMilliseconds
        return try await database.writeOutsideTransaction { tx in
            try await tx.sql.raw(
                "DELETE FROM identity_revoked_sessions WHERE revoked_at < \(bind: cutoff) RETURNING session_id"
            ).all().count
        }
    }
}

/// Keeps a process's `RevokedSessions` current: PostgreSQL notifications as they come, and a read of the table
/// every `pollInterval` (SQLite has no notifications; on PostgreSQL it catches what a lost listening connection
/// missed). A read looks back `commitMargin` further than the last one, since a revocation's time is taken before
/// its transaction commits.
struct RevokedSessionsFeed: Service {
    let revoked: RevokedSessions
    let database: any Database
    let clock: any WallClock
    let logger: Logger
    var pollInterval: Duration = .seconds(1)
    var commitMargin: TimeInterval = 60

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if database.dialect == .postgres {
                group.addTask { await listen() }
            }
            group.addTask { await poll() }
            await group.next()
            group.cancelAll()
        }
    }

    private func poll() async {
        var since = clock.now().addingTimeInterval(-revoked.retention).epochMilliseconds
        // Said once per outage, not every second (a process waiting for `inopsio migrate` has no table yet).
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = clock.now()
            do {
                try await revoked.load(since: since, database: database)
                since = started.addingTimeInterval(-commitMargin).epochMilliseconds
                revoked.prune(now: started)
                if failing { logger.info("revoked sessions are read again") }
                failing = false
            } catch {
                if !failing {
                    logger.warning(
                        "could not read revoked sessions; retrying every second",
                        metadata: ["error.message": "\(String(reflecting: error))"])
                }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
        }
    }

    private func listen() async {
        await database.listenUntilShutdown(
            channel: RevokedSessions.channel, logger: logger,
            lost: "lost the revoked-session notifications (the table is still read every second)"
        ) { payload in revoked.insert(payload, revokedAt: clock.now().epochMilliseconds) }
    }
}
