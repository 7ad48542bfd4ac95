import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_lists` and `messaging_list_members`.
struct ListStore: Sendable {
    func insert(_ list: MailingList, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO messaging_lists (tenant_id, id, name, description, segment, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(list.id.rawValue)), \(bind: list.name), \(bind: list.description),
                    \(bind: try list.segment.map { try JSONDocument.text($0) }),
                    \(bind: list.createdAt.epochMilliseconds), \(bind: list.updatedAt.epochMilliseconds))
            """
        ).run()
    }

    func update(_ list: MailingList, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE messaging_lists SET name = \(bind: list.name), description = \(bind: list.description),
                segment = \(bind: try list.segment.map { try JSONDocument.text($0) }),
                updated_at = \(bind: list.updatedAt.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(list.id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    func find(id: ID<MailingList>, in tx: Transaction) async throws -> MailingList? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM messaging_lists WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    /// The list with `member_count` filled in (a segment is matched now), for showing it; `find` does not count.
    func findCounted(id: ID<MailingList>, in tx: Transaction) async throws -> MailingList? {
        guard var list = try await find(id: id, in: tx) else { return nil }
        list.memberCount = try await recipients(of: list, in: tx).count
        return list
    }

    func list(limit: Int, after: ID<MailingList>?, in tx: Transaction) async throws -> [MailingList] {
        try await tx.page(of: "messaging_lists", after: after?.rawValue, limit: limit).map(Self.decode)
    }

    func delete(id: ID<MailingList>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM messaging_list_members WHERE tenant_id = \(tx.bind(tenant)) AND list_id = \(tx.bind(id.rawValue))"
        ).run()
        return try await tx.sql.raw(
            """
            DELETE FROM messaging_lists WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    /// Adds contacts to a static list; already-present members are left as they are. Returns how many were new.
    func addMembers(_ contacts: [ID<Contact>], to list: ID<MailingList>, now: Date, in tx: Transaction) async throws
        -> Int
    {
        let tenant = try tx.requireTenant()
        var added = 0
        for contact in contacts {
            let inserted = try await tx.sql.raw(
                """
                INSERT INTO messaging_list_members (tenant_id, list_id, contact_id, added_at)
                VALUES (\(tx.bind(tenant)), \(tx.bind(list.rawValue)), \(tx.bind(contact.rawValue)),
                        \(bind: now.epochMilliseconds))
                ON CONFLICT (tenant_id, list_id, contact_id) DO NOTHING
                RETURNING contact_id
                """
            ).first()
            if inserted != nil { added += 1 }
        }
        return added
    }

    func removeMember(_ contact: ID<Contact>, from list: ID<MailingList>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            DELETE FROM messaging_list_members
            WHERE tenant_id = \(tx.bind(tenant)) AND list_id = \(tx.bind(list.rawValue))
              AND contact_id = \(tx.bind(contact.rawValue))
            RETURNING contact_id
            """
        ).first() != nil
    }

    /// The list's members in id order, `limit` at a time after `after` (a static list's members, or the contacts a
    /// segment matches now).
    func members(of list: MailingList, limit: Int, after: ID<Contact>?, in tx: Transaction) async throws -> [Contact] {
        let all = try await recipients(of: list, in: tx)
        return Array(
            all.lazy.filter { after == nil || $0.id.rawValue.lowercasedString > after!.rawValue.lowercasedString }
                .prefix(limit))
    }

    /// Everyone the list reaches now, in id order. A segment is matched in Swift over all contacts (the contacts
    /// table is the tenant's own mailing audience; CRM-backed segments come with the CRM module).
    func recipients(of list: MailingList, in tx: Transaction) async throws -> [Contact] {
        let tenant = try tx.requireTenant()
        if let segment = list.segment {
            let contacts = try await tx.sql.raw(
                "SELECT * FROM messaging_contacts WHERE tenant_id = \(tx.bind(tenant)) ORDER BY id"
            ).all().map(ContactStore.decode)
            return contacts.filter(segment.matches)
        }
        return try await tx.sql.raw(
            """
            SELECT c.* FROM messaging_contacts c
            JOIN messaging_list_members m ON m.tenant_id = c.tenant_id AND m.contact_id = c.id
            WHERE m.tenant_id = \(tx.bind(tenant)) AND m.list_id = \(tx.bind(list.id.rawValue))
            ORDER BY c.id
            """
        ).all().map(ContactStore.decode)
    }

    static func decode(_ row: any SQLRow) throws -> MailingList {
        let segment = try row.decode(column: "segment", as: String?.self).map {
            try JSONDecoder().decode(Segment.self, from: Data($0.utf8))
        }
        return MailingList(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            description: try row.decode(column: "description", as: String.self), segment: segment, memberCount: nil,
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
