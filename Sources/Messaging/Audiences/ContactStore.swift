import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_contacts`: one row per address and tenant.
struct ContactStore: Sendable {
    /// Creates the contact, or updates the one with the same address (name, locale and attributes merged: a
    /// field left out keeps its value). Returns the stored contact and whether it was new.
    func upsert(
        email: String, name: String?, locale: String?, attributes: [String: JSONValue], now: Date, in tx: Transaction
    ) async throws -> (contact: Contact, created: Bool) {
        let tenant = try tx.requireTenant()
        let key = EmailKey.of(email)
        if var existing = try await find(emailKey: key, in: tx) {
            if let name { existing.name = name }
            if let locale { existing.locale = locale }
            existing.attributes.merge(attributes) { _, new in new }
            existing.updatedAt = now.storedPrecision
            try await tx.sql.raw(
                """
                UPDATE messaging_contacts SET name = \(bind: existing.name), locale = \(bind: existing.locale),
                    attributes = \(bind: try JSONDocument.text(existing.attributes)),
                    updated_at = \(bind: now.epochMilliseconds)
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(existing.id.rawValue))
                """
            ).run()
            return (existing, false)
        }
        let contact = Contact(
            id: .generate(), email: email.trimmingCharacters(in: .whitespaces), name: name, locale: locale,
            attributes: attributes, createdAt: now.storedPrecision, updatedAt: now.storedPrecision)
        try await tx.sql.raw(
            """
            INSERT INTO messaging_contacts (tenant_id, id, email, email_key, name, locale, attributes, created_at,
                                            updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(contact.id.rawValue)), \(bind: contact.email), \(bind: key),
                    \(bind: name), \(bind: locale), \(bind: try JSONDocument.text(attributes)),
                    \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            """
        ).run()
        return (contact, true)
    }

    func find(id: ID<Contact>, in tx: Transaction) async throws -> Contact? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM messaging_contacts WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    func find(emailKey: String, in tx: Transaction) async throws -> Contact? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM messaging_contacts WHERE tenant_id = \(tx.bind(tenant)) AND email_key = \(bind: emailKey)"
        ).first().map(Self.decode)
    }

    func list(limit: Int, after: ID<Contact>?, in tx: Transaction) async throws -> [Contact] {
        try await tx.page(of: "messaging_contacts", after: after?.rawValue, limit: limit).map(Self.decode)
    }

    func delete(id: ID<Contact>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            DELETE FROM messaging_list_members WHERE tenant_id = \(tx.bind(tenant))
              AND contact_id = \(tx.bind(id.rawValue))
            """
        ).run()
        return try await tx.sql.raw(
            """
            DELETE FROM messaging_contacts WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    static func decode(_ row: any SQLRow) throws -> Contact {
        Contact(
            id: ID(try row.decodeUUID(column: "id")), email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String?.self),
            locale: try row.decode(column: "locale", as: String?.self),
            attributes: try row.json("attributes", as: [String: JSONValue].self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
