import Foundation
import Kernel
import Platform
import SQLKit

extension Transaction {
    /// Serialises the writers of one tenant's `resource` (`pipelines`, `custom_fields`) on PostgreSQL until the
    /// transaction ends; `shared` lets holders of the shared lock in together (deals checking their stage) while
    /// keeping an exclusive holder (a pipeline losing a stage) out. SQLite has one writer at a time already.
    func lockTenant(_ resource: String, shared: Bool = false) async throws {
        guard dialect == .postgres else { return }
        let key = "crm.\(resource).\(try requireTenant().description)"
        let function = shared ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock"
        try await sql.raw("SELECT \(unsafeRaw: function)(hashtextextended(\(bind: key), 0))").run()
    }
}

/// What a deletion does to the records that point at the deleted one: the link is cleared, the record gets a new
/// version and `updated_at`, and a `crm.<record>.updated` event says so (the deletion's own audit record names
/// the deleted record).
enum RecordLinks {
    /// Clears `column` (a UUID column of `entity`'s table) where it holds `id`.
    static func clear(
        _ column: String, of entity: CustomField.Entity, pointingAt id: UUID, now: Date, trace: String?,
        in tx: Transaction
    ) async throws {
        let tenant = try tx.requireTenant()
        let table = RecordQuery(entity).table
        let changed = try await tx.sql.raw(
            """
            UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = NULL, version = version + 1,
                updated_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND \(unsafeRaw: column) = \(tx.bind(id))
            RETURNING id
            """
        ).all().map { try $0.decodeUUID(column: "id") }
        for record in changed {
            try await updated(
                entity, record, changes: [column: .init(before: .string(id.lowercasedString), after: .null)],
                trace: trace, in: tx)
        }
    }

    /// The leads converted into record `id` (a contact, company or deal): the first 20 converted.
    static func leads(convertedInto entity: CustomField.Entity, id: UUID, in tx: Transaction) async throws -> [UUID] {
        let tenant = try tx.requireTenant()
        let column: String
        switch entity {
        case .lead: return []
        case .contact: column = "contact_id"
        case .company: column = "company_id"
        case .deal:
            return try await tx.sql.raw(
                "SELECT lead_id FROM crm_deals WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
            ).first().flatMap { try $0.decodeOptionalUUID(column: "lead_id") }.map { [$0] } ?? []
        }
        return try await tx.sql.raw(
            """
            SELECT id FROM crm_leads WHERE tenant_id = \(tx.bind(tenant)) AND \(unsafeRaw: column) = \(tx.bind(id))
            ORDER BY converted_at, id LIMIT 20
            """
        ).all().map { try $0.decodeUUID(column: "id") }
    }

    /// Removes contact `id` from the deals that name it.
    static func removeContact(_ id: UUID, now: Date, trace: String?, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        let pattern = "%" + id.lowercasedString + "%"
        let rows = try await tx.sql.raw(
            """
            SELECT id, contact_ids FROM crm_deals WHERE tenant_id = \(tx.bind(tenant)) AND contact_ids LIKE \(bind: pattern)
            """
        ).all()
        for row in rows {
            let deal = try row.decodeUUID(column: "id")
            let before = try row.json("contact_ids", as: [String].self)
            let after = before.filter { $0.lowercased() != id.lowercasedString }
            try await tx.sql.raw(
                """
                UPDATE crm_deals SET contact_ids = \(bind: try JSONDocument.text(after)), version = version + 1,
                    updated_at = \(bind: now.epochMilliseconds)
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(deal))
                """
            ).run()
            try await updated(
                .deal, deal,
                changes: [
                    "contact_ids": .init(
                        before: .array(before.map(JSONValue.string)), after: .array(after.map(JSONValue.string)))
                ], trace: trace, in: tx)
        }
    }

    private static func updated(
        _ entity: CustomField.Entity, _ id: UUID, changes: [String: AuditEntry.Change], trace: String?,
        in tx: Transaction
    ) async throws {
        try await CRMEvents.append(
            "crm.\(entity.rawValue).updated", RecordChanged(id: id.lowercasedString, changes: changes, merged: false),
            entity: entity.rawValue, id: id, traceparent: trace, in: tx)
    }
}
