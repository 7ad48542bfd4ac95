import Crypto
import Foundation
import Kernel
import Platform
import SQLKit

struct ImportStore: Sendable {
    /// One rejected row's problem.
    struct RowError: Sendable, Encodable {
        let row: Int
        let field: String
        let message: String
    }

    func insert(_ item: CRMImport, content: String, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_imports (tenant_id, id, entity, filename, content, columns, row_count, status, dry_run,
                                     mapping, on_duplicate, progress, error, created_by, default_owner, created_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(item.id.rawValue)), \(bind: item.entity.rawValue),
                    \(bind: item.filename), \(bind: content), \(bind: try JSONDocument.text(item.columns)),
                    \(bind: item.rowCount), \(bind: item.status.rawValue), \(bind: item.dryRun ? 1 : 0),
                    \(bind: try JSONDocument.text(item.mapping)), \(bind: item.onDuplicate.rawValue),
                    \(bind: try JSONDocument.text(item.progress)), \(bind: item.error), \(bind: item.createdBy),
                    \(bind: item.defaultOwner), \(bind: item.createdAt.epochMilliseconds))
            """
        ).run()
    }

    /// Writes the import's state (status, mapping, progress, times).
    func save(_ item: CRMImport, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE crm_imports SET status = \(bind: item.status.rawValue), dry_run = \(bind: item.dryRun ? 1 : 0),
              mapping = \(bind: try JSONDocument.text(item.mapping)), on_duplicate = \(bind: item.onDuplicate.rawValue),
              progress = \(bind: try JSONDocument.text(item.progress)), error = \(bind: item.error),
              started_at = \(bind: item.startedAt?.epochMilliseconds), finished_at = \(bind: item.finishedAt?.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(item.id.rawValue))
            """
        ).run()
    }

    func find(_ id: UUID, in tx: Transaction) async throws -> CRMImport? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT id, entity, filename, columns, row_count, status, dry_run, mapping, on_duplicate, progress, error,
                   created_by, default_owner, created_at, started_at, finished_at
            FROM crm_imports WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))
            """
        ).first().map(Self.decode)
    }

    func content(of id: UUID, in tx: Transaction) async throws -> String? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT content FROM crm_imports WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).first()?.decode(column: "content", as: String.self)
    }

    /// Newest first, `limit` after the import `after`.
    func list(limit: Int, after: (Int64, UUID)?, in tx: Transaction) async throws -> [CRMImport] {
        let tenant = try tx.requireTenant()
        var sql: SQLQueryString = """
            SELECT id, entity, filename, columns, row_count, status, dry_run, mapping, on_duplicate, progress, error,
                   created_by, default_owner, created_at, started_at, finished_at
            FROM crm_imports WHERE tenant_id = \(tx.bind(tenant))
            """
        if let (time, id) = after {
            sql.appendInterpolation(
                " AND (created_at < \(bind: time) OR (created_at = \(bind: time) AND id < \(tx.bind(id))))"
                    as SQLQueryString)
        }
        sql.appendInterpolation(" ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)" as SQLQueryString)
        return try await tx.sql.raw(sql).all().map(Self.decode)
    }

    func addErrors(_ errors: [RowError], to id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        for error in errors {
            try await tx.sql.raw(
                """
                INSERT INTO crm_import_errors (tenant_id, import_id, row_number, field, message)
                VALUES (\(tx.bind(tenant)), \(tx.bind(id)), \(bind: error.row), \(bind: error.field), \(bind: error.message))
                ON CONFLICT (tenant_id, import_id, row_number, field) DO NOTHING
                """
            ).run()
        }
    }

    func clearErrors(of id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_import_errors WHERE tenant_id = \(tx.bind(tenant)) AND import_id = \(tx.bind(id))"
        ).run()
    }

    /// The rejected rows' problems in row order, `limit` after (row, field).
    func errors(of id: UUID, after: (Int, String)?, limit: Int, in tx: Transaction) async throws -> [RowError] {
        let tenant = try tx.requireTenant()
        var sql: SQLQueryString = """
            SELECT row_number, field, message FROM crm_import_errors
            WHERE tenant_id = \(tx.bind(tenant)) AND import_id = \(tx.bind(id))
            """
        if let (row, field) = after {
            sql.appendInterpolation(
                " AND (row_number > \(bind: row) OR (row_number = \(bind: row) AND field > \(bind: field)))"
                    as SQLQueryString)
        }
        sql.appendInterpolation(" ORDER BY row_number, field LIMIT \(bind: limit)" as SQLQueryString)
        return try await tx.sql.raw(sql).all().map {
            RowError(
                row: try $0.decode(column: "row_number", as: Int.self), field: try $0.decode(column: "field", as: String.self),
                message: try $0.decode(column: "message", as: String.self))
        }
    }

    /// The record an identical row became before, if it still exists.
    func importedRecord(_ entity: CustomField.Entity, fingerprint: String, in tx: Transaction) async throws -> UUID? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT record_id FROM crm_import_rows WHERE tenant_id = \(tx.bind(tenant))
              AND entity = \(bind: entity.rawValue) AND fingerprint = \(bind: fingerprint)
            """
        ).first()?.decodeUUID(column: "record_id")
    }

    func remember(_ entity: CustomField.Entity, fingerprint: String, record: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_import_rows (tenant_id, entity, fingerprint, record_id)
            VALUES (\(tx.bind(tenant)), \(bind: entity.rawValue), \(bind: fingerprint), \(tx.bind(record)))
            ON CONFLICT (tenant_id, entity, fingerprint) DO UPDATE SET record_id = excluded.record_id
            """
        ).run()
    }

    /// A row's fingerprint: SHA-256 of its mapped fields, in field order.
    static func fingerprint(_ fields: [String: String]) -> String {
        let text = fields.keys.sorted().map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(text.utf8)).lowercaseHex
    }

    static func decode(_ row: any SQLRow) throws -> CRMImport {
        CRMImport(
            id: ID(try row.decodeUUID(column: "id")),
            entity: CustomField.Entity(rawValue: try row.decode(column: "entity", as: String.self)) ?? .lead,
            filename: try row.decode(column: "filename", as: String.self),
            columns: try row.json("columns", as: [String].self), rowCount: try row.decode(column: "row_count", as: Int.self),
            status: CRMImport.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            dryRun: try row.decode(column: "dry_run", as: Int.self) != 0,
            mapping: try row.json("mapping", as: [String: String].self),
            onDuplicate: CRMImport.OnDuplicate(rawValue: try row.decode(column: "on_duplicate", as: String.self)) ?? .skip,
            progress: try row.json("progress", as: CRMImport.Progress.self),
            error: try row.decode(column: "error", as: String?.self),
            createdBy: try row.decode(column: "created_by", as: String.self),
            defaultOwner: try row.decode(column: "default_owner", as: String?.self), createdAt: try row.date("created_at"),
            startedAt: try row.optionalDate("started_at"), finishedAt: try row.optionalDate("finished_at"))
    }
}
