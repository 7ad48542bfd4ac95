import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_templates`.
struct TemplateStore: Sendable {
    func insert(_ template: EmailTemplate, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO messaging_templates (tenant_id, id, key, locale, name, subject, html, text, version,
                                             created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(template.id.rawValue)), \(bind: template.key),
                    \(bind: template.locale), \(bind: template.name), \(bind: template.subject), \(bind: template.html),
                    \(bind: template.text), \(bind: template.version), \(bind: template.createdAt.epochMilliseconds),
                    \(bind: template.updatedAt.epochMilliseconds))
            """
        ).run()
    }

    func update(_ template: EmailTemplate, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE messaging_templates SET key = \(bind: template.key), locale = \(bind: template.locale),
                name = \(bind: template.name), subject = \(bind: template.subject), html = \(bind: template.html),
                text = \(bind: template.text), version = version + 1,
                updated_at = \(bind: template.updatedAt.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(template.id.rawValue))
              AND version = \(bind: expectedVersion)
            RETURNING id
            """
        ).first() != nil
    }

    func find(id: ID<EmailTemplate>, in tx: Transaction) async throws -> EmailTemplate? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM messaging_templates WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    /// The template `key` in `locale`, else in the language of `locale` (`de` for `de-AT`), else in `fallback`,
    /// else in any locale.
    func find(key: String, locale: String?, fallback: String, in tx: Transaction) async throws -> EmailTemplate? {
        let tenant = try tx.requireTenant()
        let candidates = try await tx.sql.raw(
            "SELECT * FROM messaging_templates WHERE tenant_id = \(tx.bind(tenant)) AND key = \(bind: key)"
        ).all().map(Self.decode)
        let wanted = (locale ?? fallback).lowercased()
        let language = wanted.split(separator: "-").first.map(String.init) ?? wanted
        return candidates.first { $0.locale.lowercased() == wanted }
            ?? candidates.first { $0.locale.lowercased() == language }
            ?? candidates.first { $0.locale.lowercased() == fallback.lowercased() }
            ?? candidates.min { $0.locale < $1.locale }
    }

    func exists(key: String, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT id FROM messaging_templates WHERE tenant_id = \(tx.bind(tenant)) AND key = \(bind: key) LIMIT 1"
        ).first() != nil
    }

    func keyTaken(key: String, locale: String, except: ID<EmailTemplate>?, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        let rows = try await tx.sql.raw(
            """
            SELECT id FROM messaging_templates
            WHERE tenant_id = \(tx.bind(tenant)) AND key = \(bind: key) AND locale = \(bind: locale)
            """
        ).all()
        let ids = try rows.map { try $0.decodeUUID(column: "id") }
        return ids.contains { $0 != except?.rawValue }
    }

    func list(limit: Int, after: ID<EmailTemplate>?, in tx: Transaction) async throws -> [EmailTemplate] {
        try await tx.page(of: "messaging_templates", after: after?.rawValue, limit: limit).map(Self.decode)
    }

    func delete(id: ID<EmailTemplate>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            DELETE FROM messaging_templates WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    static func decode(_ row: any SQLRow) throws -> EmailTemplate {
        EmailTemplate(
            id: ID(try row.decodeUUID(column: "id")), key: try row.decode(column: "key", as: String.self),
            locale: try row.decode(column: "locale", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            subject: try row.decode(column: "subject", as: String.self),
            html: try row.decode(column: "html", as: String?.self),
            text: try row.decode(column: "text", as: String.self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
