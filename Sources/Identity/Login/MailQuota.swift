import Crypto
import Foundation
import Kernel
import Platform
import SQLKit

/// Limits on the mails Identity sends on request (address verifications, password resets, invitations), so that
/// nobody can flood a mailbox through it: at most `limit` mails per `window` for each subject, an address (across
/// tenants) and the user it is for or from. A request over a limit is a 429 with `Retry-After`.
///
/// An anonymous request (a password reset) is counted against the address asked for before anything is looked
/// up, so its answer, 202 or 429, is the same whether or not an account has that address.
struct MailQuota: Sendable {
    /// What is counted for one kind of mail.
    struct Rule: Sendable {
        let limit: Int
        let window: TimeInterval
    }

    enum Kind: String, Sendable {
        case verification, passwordReset = "password_reset", invitation
    }

    /// Per recipient address, and per user (the account verifying or reset, or the admin inviting).
    static let rules: [Kind: (address: Rule, user: Rule)] = [
        .verification: (Rule(limit: 3, window: 3600), Rule(limit: 5, window: 3600)),
        .passwordReset: (Rule(limit: 3, window: 3600), Rule(limit: 3, window: 3600)),
        .invitation: (Rule(limit: 3, window: 3600), Rule(limit: 100, window: 3600)),
    ]

    let database: any Database

    /// Counts one mail of `kind` to `address` for `user` (`nil` when unknown, as for an anonymous reset), or throws
    /// the 429 when either is over its limit (then nothing is counted).
    func take(_ kind: Kind, address: String, user: String?, now: Date) async throws {
        guard let rules = Self.rules[kind] else { return }
        let subjects =
            [(Self.subject(kind, "address", address.lowercased()), rules.address)]
            + (user.map { [(Self.subject(kind, "user", $0), rules.user)] } ?? [])
        let nowMS = now.epochMilliseconds
        // One upsert per subject counts and reads at once (on PostgreSQL the row stays locked until commit, so
        // concurrent requests queue); a subject over its limit rolls every count of this request back.
        try await database.system { tx in
            for (subject, rule) in subjects {
                let windowMS = Int64(rule.window * 1000)
                let row = try await tx.sql.raw(
                    """
                    INSERT INTO identity_mail_quota (subject, window_start, sent)
                    VALUES (\(bind: subject), \(bind: nowMS), 1)
                    ON CONFLICT (subject) DO UPDATE SET
                        window_start = CASE WHEN \(bind: nowMS) - identity_mail_quota.window_start >= \(bind: windowMS)
                            THEN \(bind: nowMS) ELSE identity_mail_quota.window_start END,
                        sent = CASE WHEN \(bind: nowMS) - identity_mail_quota.window_start >= \(bind: windowMS)
                            THEN 1 ELSE identity_mail_quota.sent + 1 END
                    RETURNING window_start, sent
                    """
                ).first()
                let start = try row?.decode(column: "window_start", as: Int64.self) ?? nowMS
                let sent = try row?.decode(column: "sent", as: Int.self) ?? 1
                guard sent > rule.limit else { continue }
                let seconds = max(1, Int((Double(start + windowMS - nowMS) / 1000).rounded(.up)))
                throw Problem(
                    status: .tooManyRequests, type: "/problems/too-many-mails", title: "Too many mails",
                    detail: "too many of these mails were asked for; try again in \(seconds) seconds",
                    headers: [.retryAfter: String(seconds)])
            }
        }
    }

    /// The stored key: hashed, so the table holds no addresses.
    static func subject(_ kind: Kind, _ what: String, _ value: String) -> String {
        "\(kind.rawValue):\(what):" + SHA256.hash(data: Data(value.utf8)).lowercaseHex
    }
}
