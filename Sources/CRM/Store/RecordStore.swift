import Foundation
import Kernel
import Platform
import SQLKit

/// A lead, contact or company as `RecordStore` keeps it: its table, its columns and what must be unique.
protocol CRMRecord: Sendable, JSONObject {
    static var entity: CustomField.Entity { get }
    /// A column holding a value unique per tenant (`email_key`), the field a client knows it by (`email`), and the
    /// record's value for it.
    static var uniqueKeys: [(column: String, field: String, value: @Sendable (Self) -> String?)] { get }
    var uuid: UUID { get }
    var version: Int { get set }
    var tags: [String] { get }
    var createdAt: Date { get }
    var updatedAt: Date { get set }
    /// The editable fields as JSON, for audit changes and `updated` events.
    var fields: [String: JSONValue] { get }
    /// What the `name` sort orders by (lower-case).
    var nameKey: String { get }
    /// What the `score` sort orders by (leads only; 0 for the others).
    var sortScore: Int { get }
    /// What the full-text index holds of the record.
    var searchText: SearchText { get }
    /// Every column but `tenant_id`, `id`, `version`, `created_at` and `updated_at`, with its value.
    func columns(in tx: Transaction) throws -> [(String, any SQLExpression)]
    static func decode(_ row: Row) throws -> Self
}

extension CRMRecord {
    static func decode(_ row: any SQLRow) throws -> Self { try decode(Row(row)) }

    var etag: String { "W/\"\(version)\"" }

    static var table: String { RecordQuery(entity).table }

    var sortScore: Int { 0 }

    /// Where the next page starts after this record in `query`'s order.
    func position(in query: RecordQuery) -> RecordQuery.Position {
        query.position(id: uuid, createdAt: createdAt, updatedAt: updatedAt, nameKey: nameKey, score: sortScore)
    }
}

/// Reads and writes records of one kind, each tenant's only (on PostgreSQL row-level security says the same).
struct RecordStore<Record: CRMRecord>: Sendable {
    /// Another record of the tenant already has a value that must be unique.
    struct Duplicate: Error, Sendable {
        let existing: Record
        /// The field, as the client knows it (`email`, `phone`, `domain`).
        let field: String
    }

    /// Inserts `record`; `Duplicate` when a unique value is taken (also when another transaction took it first).
    func insert(_ record: Record, in tx: Transaction) async throws {
        if let existing = try await duplicate(of: record, in: tx) { throw existing }
        let tenant = try tx.requireTenant()
        let columns = try record.columns(in: tx)
        var names = "tenant_id, id, version, created_at, updated_at"
        var values: SQLQueryString = """
            \(tx.bind(tenant)), \(tx.bind(record.uuid)), \(bind: record.version),
            \(bind: record.createdAt.epochMilliseconds), \(bind: record.updatedAt.epochMilliseconds)
            """
        for (name, value) in columns {
            names += ", \(name)"
            values.appendInterpolation(", \(value)" as SQLQueryString)
        }
        let statement: SQLQueryString = "INSERT INTO \(unsafeRaw: Record.table) (\(unsafeRaw: names)) VALUES (\(values))"
        if tx.dialect == .postgres {
            // Another transaction may have committed the same unique value since the look-up: the insert then
            // does nothing (rather than failing, which would need a savepoint, two more round trips per create)
            // and the record holding the value is the answer.
            let inserted = try await tx.rows("\(statement) ON CONFLICT DO NOTHING RETURNING id")
            if inserted.isEmpty {
                if let existing = try await duplicate(of: record, in: tx) { throw existing }
                throw DomainError.conflict(
                    "the \(Record.entity.rawValue) could not be stored (a unique value is taken); retry")
            }
        } else {
            try await tx.sql.raw(statement).run()
        }
        try await RecordTags.write(record.tags, entity: Record.entity, id: record.uuid, replacing: false, in: tx)
        try await SearchIndex().write(Record.entity, record.uuid, record.searchText, in: tx)
    }

    /// Writes `record` over the stored version `expectedVersion`; false when that is no longer the stored one (a
    /// concurrent change won). `record.version` must already be the new version.
    func update(_ record: Record, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        if let existing = try await duplicate(of: record, in: tx) { throw existing }
        let tenant = try tx.requireTenant()
        var assignments: SQLQueryString = """
            version = \(bind: record.version), updated_at = \(bind: record.updatedAt.epochMilliseconds)
            """
        for (name, value) in try record.columns(in: tx) {
            assignments.appendInterpolation(", \(unsafeRaw: name) = \(value)" as SQLQueryString)
        }
        let statement: SQLQueryString = """
            UPDATE \(unsafeRaw: Record.table) SET \(assignments)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(record.uuid)) AND version = \(bind: expectedVersion)
            RETURNING id
            """
        var updated = false
        try await guardingUniqueness(of: record, in: tx) { updated = try await tx.sql.raw(statement).first() != nil }
        guard updated else { return false }
        try await RecordTags.write(record.tags, entity: Record.entity, id: record.uuid, replacing: true, in: tx)
        try await SearchIndex().write(Record.entity, record.uuid, record.searchText, in: tx)
        return true
    }

    func find(_ id: UUID, in tx: Transaction) async throws -> Record? {
        let tenant = try tx.requireTenant()
        return try await tx.rows(
            "SELECT * FROM \(unsafeRaw: Record.table) WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).first.map(Record.decode)
    }

    /// The record holding one of `record`'s unique values, other than `record` itself.
    func duplicate(of record: Record, in tx: Transaction) async throws -> Duplicate? {
        let tenant = try tx.requireTenant()
        for key in Record.uniqueKeys {
            guard let value = key.value(record) else { continue }
            let row = try await tx.rows(
                """
                SELECT * FROM \(unsafeRaw: Record.table) WHERE tenant_id = \(tx.bind(tenant))
                  AND \(unsafeRaw: key.column) = \(bind: value) AND id <> \(tx.bind(record.uuid))
                """
            ).first
            if let row { return Duplicate(existing: try Record.decode(row), field: key.field) }
        }
        return nil
    }

    func delete(_ id: UUID, in tx: Transaction) async throws -> Record? {
        let tenant = try tx.requireTenant()
        try await RecordTags.delete(entity: Record.entity, id: id, in: tx)
        try await SearchIndex().delete(Record.entity, id, in: tx)
        return try await tx.sql.raw(
            """
            DELETE FROM \(unsafeRaw: Record.table) WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))
            RETURNING *
            """
        ).first().map(Record.decode)
    }

    /// One page of `query` (`limit` rows; ask for one more to know whether another page follows).
    func list(_ query: RecordQuery, limit: Int, in tx: Transaction) async throws -> [Record] {
        try await query.rows(limit: limit, in: tx).map(Record.decode)
    }

    /// Runs `write`; if it breaks a uniqueness because another transaction committed the same value after our
    /// look-up, answers with that record as `Duplicate` rather than a database error. PostgreSQL aborts a
    /// transaction at its first failed statement, so the write runs under a savepoint there. (SQLite has one writer
    /// at a time: the look-up before the write cannot be overtaken.)
    private func guardingUniqueness(of record: Record, in tx: Transaction, _ write: () async throws -> Void)
        async throws
    {
        guard tx.dialect == .postgres else { return try await write() }
        try await tx.sql.raw("SAVEPOINT crm_record_write").run()
        do {
            try await write()
            try await tx.sql.raw("RELEASE SAVEPOINT crm_record_write").run()
        } catch {
            try await tx.sql.raw("ROLLBACK TO SAVEPOINT crm_record_write").run()
            if let duplicate = try await duplicate(of: record, in: tx) { throw duplicate }
            throw error
        }
    }
}
