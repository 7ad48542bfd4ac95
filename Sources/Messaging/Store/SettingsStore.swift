import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_settings` (one row per tenant, defaults until first saved) and the installation's link key.
struct SettingsStore: Sendable {
    func get(in tx: Transaction) async throws -> MessagingSettings {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                "SELECT * FROM messaging_settings WHERE tenant_id = \(tx.bind(tenant))"
            ).first()
        else { return .defaults }
        return MessagingSettings(
            fromName: try row.decode(column: "from_name", as: String?.self),
            fromAddress: try row.decode(column: "from_address", as: String?.self),
            replyTo: try row.decode(column: "reply_to", as: String?.self),
            defaultLocale: try row.decode(column: "default_locale", as: String.self),
            brand: try row.json("brand", as: MessagingSettings.Brand.self))
    }

    func put(_ settings: MessagingSettings, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO messaging_settings (tenant_id, from_name, from_address, reply_to, default_locale, brand,
                                            updated_at)
            VALUES (\(tx.bind(tenant)), \(bind: settings.fromName), \(bind: settings.fromAddress),
                    \(bind: settings.replyTo), \(bind: settings.defaultLocale),
                    \(bind: try JSONDocument.text(settings.brand)), \(bind: now.epochMilliseconds))
            ON CONFLICT (tenant_id) DO UPDATE SET from_name = excluded.from_name,
                from_address = excluded.from_address, reply_to = excluded.reply_to,
                default_locale = excluded.default_locale, brand = excluded.brand, updated_at = excluded.updated_at
            """
        ).run()
    }

    /// The installation's key for signing links, made on first use (a system transaction).
    func linkKey(in tx: Transaction, secrets: SecretBox, now: Date) async throws -> String {
        let sealed = try secrets.seal(Base64URL.randomToken(), in: MessagingSecrets.linkKey, tenant: nil)
        try await tx.sql.raw(
            """
            INSERT INTO messaging_keys (id, secret, created_at)
            VALUES (1, \(bind: sealed), \(bind: now.epochMilliseconds))
            ON CONFLICT (id) DO NOTHING
            """
        ).run()
        guard let row = try await tx.sql.raw("SELECT secret FROM messaging_keys WHERE id = 1").first() else {
            throw DatabaseError.closed
        }
        return try secrets.open(
            try row.decode(column: "secret", as: String.self), in: MessagingSecrets.linkKey, tenant: nil)
    }
}
