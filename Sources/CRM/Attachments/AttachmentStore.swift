import Foundation
import Kernel
import Platform
import SQLKit

/// `crm_attachments`: what the CRM knows of each attached file (the bytes are in the blob store).
struct AttachmentStore: Sendable {
    func insert(_ attachment: Attachment, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_attachments (tenant_id, id, record_type, record_id, name, content_type, size, sha256,
              created_by, created_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(attachment.id.rawValue)), \(bind: attachment.recordType.rawValue),
                    \(tx.bind(attachment.recordID)), \(bind: attachment.name), \(bind: attachment.contentType),
                    \(bind: attachment.size), \(bind: attachment.sha256), \(bind: attachment.createdBy),
                    \(bind: attachment.createdAt.epochMilliseconds))
            """
        ).run()
    }

    func find(_ id: ID<Attachment>, in tx: Transaction) async throws -> Attachment? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM crm_attachments WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    /// The record's attachments, newest first, `limit` of them after `after` (the last one of the previous page).
    func list(
        of type: CustomField.Entity, id: UUID, after: (Int64, UUID)?, limit: Int, in tx: Transaction
    ) async throws -> [Attachment] {
        let tenant = try tx.requireTenant()
        var sql: SQLQueryString = """
            SELECT * FROM crm_attachments WHERE tenant_id = \(tx.bind(tenant))
              AND record_type = \(bind: type.rawValue) AND record_id = \(tx.bind(id))
            """
        if let (time, last) = after {
            sql.appendInterpolation(
                " AND (created_at < \(bind: time) OR (created_at = \(bind: time) AND id < \(tx.bind(last))))"
                    as SQLQueryString)
        }
        sql.appendInterpolation(" ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)" as SQLQueryString)
        return try await tx.sql.raw(sql).all().map(Self.decode)
    }

    func delete(_ id: ID<Attachment>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_attachments WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).run()
    }

    static func decode(_ row: any SQLRow) throws -> Attachment {
        Attachment(
            id: ID(try row.decodeUUID(column: "id")),
            recordType: CustomField.Entity(rawValue: try row.decode(column: "record_type", as: String.self)) ?? .lead,
            recordID: try row.decodeUUID(column: "record_id"), name: try row.decode(column: "name", as: String.self),
            contentType: try row.decode(column: "content_type", as: String.self),
            size: try row.decode(column: "size", as: Int64.self),
            sha256: try row.decode(column: "sha256", as: String.self),
            createdBy: try row.decode(column: "created_by", as: String.self), createdAt: try row.date("created_at"))
    }
}
