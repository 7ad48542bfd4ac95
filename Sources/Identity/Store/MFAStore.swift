import Foundation
import Kernel
import Platform
import SQLKit

/// TOTP secrets, the last accepted time step, and hashed backup codes, on the user row.
struct MFAStore: Sendable {
    /// Claims `step` as used; false when this or a later step was already used (a replayed code).
    func claimStep(_ step: Int64, of user: ID<User>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE identity_users SET totp_last_step = \(bind: step)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue))
              AND (totp_last_step IS NULL OR totp_last_step < \(bind: step))
            RETURNING id
            """
        ).first() != nil
    }

    /// Stores a secret being enrolled (not yet enabled: sign-in does not ask for it until confirmed), sealed.
    func setPendingSecret(_ secret: String, of user: ID<User>, secrets: SecretBox, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let secret = try secrets.seal(secret, in: IdentitySecrets.totp, tenant: tenant)
        try await tx.sql.raw(
            """
            UPDATE identity_users SET totp_secret = \(bind: secret), totp_enabled_at = NULL, totp_last_step = NULL,
                backup_codes = NULL
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue))
            """
        ).run()
    }

    func pendingSecret(of user: ID<User>, secrets: SecretBox, in tx: Transaction) async throws -> String? {
        let tenant = try tx.requireTenant()
        let row = try await tx.sql.raw(
            """
            SELECT totp_secret FROM identity_users
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue)) AND totp_enabled_at IS NULL
            """
        ).first()
        return try row?.decode(column: "totp_secret", as: String?.self).map {
            try secrets.open($0, in: IdentitySecrets.totp, tenant: tenant)
        }
    }

    func enable(of user: ID<User>, step: Int64, backupCodeHashes: [String], now: Date, in tx: Transaction) async throws
    {
        let tenant = try tx.requireTenant()
        let codes = String(decoding: try JSONEncoder().encode(backupCodeHashes), as: UTF8.self)
        try await tx.sql.raw(
            """
            UPDATE identity_users SET totp_enabled_at = \(bind: now.epochMilliseconds), totp_last_step = \(bind: step),
                backup_codes = \(bind: codes)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue))
            """
        ).run()
    }

    func disable(of user: ID<User>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL,
                backup_codes = NULL
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue))
            """
        ).run()
    }

    /// Consumes a backup code (by its hash); false when it is not one of the user's unused codes.
    func useBackupCode(hash: String, of user: ID<User>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                """
                SELECT backup_codes FROM identity_users
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue))
                """
            ).first(),
            let text = try row.decode(column: "backup_codes", as: String?.self)
        else { return false }
        var hashes = try JSONDecoder().decode([String].self, from: Data(text.utf8))
        guard let index = hashes.firstIndex(of: hash) else { return false }
        hashes.remove(at: index)
        let remaining = String(decoding: try JSONEncoder().encode(hashes), as: UTF8.self)
        return try await tx.sql.raw(
            """
            UPDATE identity_users SET backup_codes = \(bind: remaining)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue)) AND backup_codes = \(bind: text)
            RETURNING id
            """
        ).first() != nil
    }

    func remainingBackupCodes(of user: ID<User>, in tx: Transaction) async throws -> Int {
        let tenant = try tx.requireTenant()
        let row = try await tx.sql.raw(
            """
            SELECT backup_codes FROM identity_users
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.rawValue))
            """
        ).first()
        guard let text = try row?.decode(column: "backup_codes", as: String?.self) else { return 0 }
        return try JSONDecoder().decode([String].self, from: Data(text.utf8)).count
    }
}

/// Ten single-use backup codes of the form `xxxxx-xxxxx` (lower-case letters and digits, about 50 bits each);
/// only their SHA-256 is stored.
enum BackupCodes {
    static let count = 10
    private static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    static func generate() -> [String] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            let characters = (0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            return String(characters[0..<5]) + "-" + String(characters[5..<10])
        }
    }

    /// The stored form of a code as typed (case and spaces ignored).
    static func hash(_ code: String) -> String {
        SessionStore.hash(code.lowercased().filter { !$0.isWhitespace })
    }

    static func looksLikeBackupCode(_ code: String) -> Bool {
        let normal = code.lowercased().filter { !$0.isWhitespace }
        return normal.count == 11 && normal.dropFirst(5).first == "-"
    }
}
