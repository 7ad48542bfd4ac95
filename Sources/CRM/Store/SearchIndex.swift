import Foundation
import Kernel
import Platform
import SQLKit

/// What a record gives the full-text index: its name (ranked highest, and fuzzy-matched on PostgreSQL), a line
/// shown under it in results, and the other words it is found by.
struct SearchText: Sendable, Equatable {
    let title: String
    let subtitle: String
    let body: String

    init(title: String, subtitle: [String?], body: [String?]) {
        self.title = title
        self.subtitle = subtitle.compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
        // Addresses and domains are also found by their parts (`ada`, `engine` in ada@engine.example).
        let words = (subtitle + body).compactMap { $0 }.joined(separator: " ")
        self.body = String((words + " " + SearchIndex.tokens(words).joined(separator: " ")).prefix(4_000))
    }
}

/// The CRM's full-text index of leads, contacts, companies and deals (`crm_search`), written with each record in
/// its transaction. SQLite: an FTS5 table over it (unicode61 words, diacritics folded), words matched by prefix,
/// ranked by BM25 with the name weighing ten times the rest. PostgreSQL: a `tsvector` (the `simple` configuration,
/// names weighted A) with a GIN index, words matched by prefix, plus `pg_trgm` trigram similarity on the name so
/// misspelt names are found too (`Lovelase` finds Ada Lovelace), ranked by the better of the two.
struct SearchIndex: Sendable {
    struct Hit: Sendable, Encodable {
        let type: CustomField.Entity
        let id: UUID
        let title: String
        let subtitle: String
        let rank: Double

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(id.lowercasedString, forKey: .id)
            try container.encode(title, forKey: .title)
            try container.encode(subtitle, forKey: .subtitle)
            try container.encode(rank, forKey: .rank)
        }

        enum CodingKeys: String, CodingKey {
            case type, id, title, subtitle, rank
        }
    }

    /// The words of `text`, lower-case (letters and digits; everything else separates).
    static func tokens(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    func write(_ entity: CustomField.Entity, _ id: UUID, _ text: SearchText, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_search (tenant_id, entity, record_id, title, subtitle, body)
            VALUES (\(tx.bind(tenant)), \(bind: entity.rawValue), \(tx.bind(id)), \(bind: text.title),
                    \(bind: text.subtitle), \(bind: text.body))
            ON CONFLICT (tenant_id, entity, record_id) DO UPDATE SET title = excluded.title,
                subtitle = excluded.subtitle, body = excluded.body
            """
        ).run()
    }

    func delete(_ entity: CustomField.Entity, _ id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            DELETE FROM crm_search WHERE tenant_id = \(tx.bind(tenant)) AND entity = \(bind: entity.rawValue)
              AND record_id = \(tx.bind(id))
            """
        ).run()
    }

    /// The best `limit` matches of `query` among records of `types`, best first.
    func search(_ query: String, types: [CustomField.Entity], limit: Int, in tx: Transaction) async throws -> [Hit] {
        let tenant = try tx.requireTenant()
        let words = Array(Self.tokens(query).prefix(8))
        guard !words.isEmpty, !types.isEmpty else { return [] }
        let kinds = SQLList(types.map { SQLBind($0.rawValue) })
        let rows: [any SQLRow]
        switch tx.dialect {
        case .sqlite:
            let match = words.map { "\"\($0)\"*" }.joined(separator: " ")
            rows = try await tx.sql.raw(
                """
                SELECT s.entity, s.record_id, s.title, s.subtitle, -bm25(crm_search_fts, 10.0, 1.0) AS rank
                FROM crm_search_fts JOIN crm_search s ON s.seq = crm_search_fts.rowid
                WHERE crm_search_fts MATCH \(bind: match) AND s.tenant_id = \(tx.bind(tenant)) AND s.entity IN (\(kinds))
                ORDER BY rank DESC, s.record_id LIMIT \(bind: limit)
                """
            ).all()
        case .postgres:
            let terms = words.map { "\($0):*" }.joined(separator: " & ")
            let name = words.joined(separator: " ")
            rows = try await tx.sql.raw(
                """
                SELECT entity, record_id, title, subtitle,
                  GREATEST(ts_rank(document, to_tsquery('simple', \(bind: terms))),
                           similarity(lower(title), \(bind: name)), word_similarity(\(bind: name), lower(title)))::float8
                    AS rank
                FROM crm_search
                WHERE tenant_id = \(tx.bind(tenant)) AND entity IN (\(kinds))
                  AND (document @@ to_tsquery('simple', \(bind: terms)) OR lower(title) % \(bind: name)
                       OR \(bind: name) <% lower(title))
                ORDER BY rank DESC, record_id LIMIT \(bind: limit)
                """
            ).all()
        }
        return try rows.map { row in
            Hit(
                type: CustomField.Entity(rawValue: try row.decode(column: "entity", as: String.self)) ?? .lead,
                id: try row.decodeUUID(column: "record_id"), title: try row.decode(column: "title", as: String.self),
                subtitle: try row.decode(column: "subtitle", as: String.self),
                rank: try row.decode(column: "rank", as: Double.self))
        }
    }
}
