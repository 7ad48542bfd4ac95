import Foundation
import Kernel
import Platform
import SQLKit

/// `identity_throttle`: failure counters that span tenants (per client IP). A platform-level table read and written
/// in system transactions.
struct ThrottleStore: Sendable {
    let database: any Database

    /// Until when `subject` is refused, if it is.
    func blockedUntil(_ subject: String, now: Date) async throws -> Date? {
        let row = try await database.systemRead { tx in
            try await tx.sql.raw("SELECT blocked_until FROM identity_throttle WHERE subject = \(bind: subject)").first()
        }
        guard let until = try row?.decode(column: "blocked_until", as: Int64?.self) else { return nil }
        let date = Date(epochMilliseconds: until)
        return date > now ? date : nil
    }

    /// Counts a failure and returns the new block, if any.
    @discardableResult
    func recordFailure(_ subject: String, policy: LockoutPolicy, now: Date) async throws -> Date? {
        try await database.system { tx in
            let row = try await tx.sql.raw(
                "SELECT failures, last_failure_at FROM identity_throttle WHERE subject = \(bind: subject)"
            ).first()
            let previous = try row?.decode(column: "failures", as: Int.self) ?? 0
            let last = try row.map { Date(epochMilliseconds: try $0.decode(column: "last_failure_at", as: Int64.self)) }
            let failures = policy.failures(after: previous, lastFailureAt: last, now: now)
            let blockedUntil = policy.wait(afterFailures: failures).map { now.addingTimeInterval($0) }
            try await tx.sql.raw(
                """
                INSERT INTO identity_throttle (subject, failures, last_failure_at, blocked_until)
                VALUES (\(bind: subject), \(bind: failures), \(bind: now.epochMilliseconds),
                        \(bind: blockedUntil?.epochMilliseconds))
                ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures,
                    last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until
                """
            ).run()
            return blockedUntil
        }
    }
}
