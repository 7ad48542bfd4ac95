import Foundation
import Kernel
import Platform
import SQLKit

/// `crm_record_tags`: the tags of leads, contacts and companies, one row each, so lists filter by tag on an
/// index (the record keeps its tags as JSON too, for reading). Also the keys records are looked up and sorted by.
enum RecordTags {
    /// The key emails are unique and looked up by: the address lower-cased.
    static func emailKey(_ email: String) -> String { email.trimmingCharacters(in: .whitespaces).lowercased() }

    /// What the `name` sort orders by: last name, then first name, lower-cased.
    static func nameKey(first: String?, last: String?) -> String {
        [last, first].compactMap { $0 }.joined(separator: " ").lowercased()
    }

    /// A person's name as shown: first name, then last name.
    static func displayName(first: String?, last: String?) -> String {
        [first, last].compactMap { $0 }.joined(separator: " ")
    }

    /// Replaces the tags of record `id`.
    static func write(_ tags: [String], entity: CustomField.Entity, id: UUID, replacing: Bool, in tx: Transaction)
        async throws
    {
        let tenant = try tx.requireTenant()
        if replacing { try await delete(entity: entity, id: id, in: tx) }
        guard !tags.isEmpty else { return }
        var values: SQLQueryString = ""
        for (index, tag) in tags.enumerated() {
            if index > 0 { values.appendLiteral(", ") }
            values.appendInterpolation(
                "(\(tx.bind(tenant)), \(bind: entity.rawValue), \(tx.bind(id)), \(bind: tag))" as SQLQueryString)
        }
        try await tx.sql.raw("INSERT INTO crm_record_tags (tenant_id, entity, record_id, tag) VALUES \(values)").run()
    }

    static func delete(entity: CustomField.Entity, id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            DELETE FROM crm_record_tags WHERE tenant_id = \(tx.bind(tenant)) AND entity = \(bind: entity.rawValue)
              AND record_id = \(tx.bind(id))
            """
        ).run()
    }
}

extension RecordQuery {
    /// One page of rows (`limit`; ask for one more to know whether another page follows).
    func rows(limit: Int, in tx: Transaction) async throws -> [Row] {
        let tenant = try tx.requireTenant()
        let (after, orderBy) = try ordering(in: tx)
        var sql: SQLQueryString = "SELECT l.* FROM \(unsafeRaw: table) l WHERE l.tenant_id = \(tx.bind(tenant))"
        sql.appendInterpolation(try conditions(in: tx))
        sql.appendInterpolation(after)
        sql.appendInterpolation(orderBy)
        sql.appendInterpolation(" LIMIT \(bind: limit)" as SQLQueryString)
        return try await tx.rows(sql)
    }

    /// How many records match the filters (the position ignored).
    func count(in tx: Transaction) async throws -> Int {
        let tenant = try tx.requireTenant()
        var sql: SQLQueryString = "SELECT COUNT(*) AS total FROM \(unsafeRaw: table) l WHERE l.tenant_id = \(tx.bind(tenant))"
        sql.appendInterpolation(try conditions(in: tx))
        return try await tx.sql.raw(sql).first()?.decode(column: "total", as: Int.self) ?? 0
    }
}
