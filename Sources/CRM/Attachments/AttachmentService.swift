import Foundation
import Kernel
import Logging
import NIOCore
import Platform

/// Files on CRM records: the use cases the API and the pages share. Who may: reading a lead's, contact's or
/// company's files needs `crm.leads:read`, a deal's `crm.deals:read`; attaching and removing need the matching
/// write permission. Each change is audited on the record (so it shows on its timeline).
///
/// The bytes go to the blob store before the row is written, under a key of the tenant and the attachment's id:
/// an upload that fails or is refused leaves neither a row nor (but for a crash between the two) a blob. Removal
/// deletes the row, then the blob; a crash between the two leaves an orphaned blob, never a row without its file.
struct AttachmentService: Sendable {
    let services: CRMServices

    static func read(_ entity: CustomField.Entity) -> Permission {
        entity == .deal ? .crmDealsRead : .crmLeadsRead
    }

    static func write(_ entity: CustomField.Entity) -> Permission {
        entity == .deal ? .crmDealsWrite : .crmLeadsWrite
    }

    /// Attaches `body` (a file of `contentType` named `name`, `attachment` when not named) to the record; 404
    /// when the record does not exist, 415 for a type that is not accepted or content that is not of its type, 413
    /// over `max_upload_bytes`.
    func attach<Record: CRMRecord, Body: AsyncSequence & Sendable>(
        _: Record.Type, to recordID: UUID, name: String?, contentType: String?, body: Body, by caller: Caller
    ) async throws -> Attachment where Body.Element == ByteBuffer {
        let entity = Record.entity
        // The permission, then the record (another tenant's is not there, whatever the body), then the file.
        try caller.require(Self.write(entity))
        guard try await exists(Record.self, recordID, caller) else {
            throw DomainError.notFound(entity: entity.rawValue)
        }
        let name = try AttachmentRules.name(name ?? "attachment")
        let type = try AttachmentRules.contentType(contentType)
        let now = services.clock.now()
        let id = ID<Attachment>.generate()
        let key = try Attachment.blobKey(id, tenant: caller.tenant)
        let info: BlobInfo
        do {
            info = try await services.blobs.put(
                key, contentType: type, maxBytes: Int64(services.maxUploadBytes),
                body: SignatureCheckedBody(base: body, type: type))
        } catch BlobError.tooLarge(let limit) {
            throw Problem(status: .contentTooLarge, detail: "the file is larger than \(limit) bytes")
        }
        let stored = Attachment(
            id: id, recordType: entity, recordID: recordID, name: name, contentType: type, size: info.size,
            sha256: info.sha256, createdBy: caller.principal.subject, createdAt: now)
        do {
            try await services.database.write(tenant: caller.tenant) { tx in
                // The record may have been deleted while the file was arriving.
                guard try await RecordStore<Record>().find(recordID, in: tx) != nil else {
                    throw DomainError.notFound(entity: entity.rawValue)
                }
                try await AttachmentStore().insert(stored, in: tx)
                try await AuditTrail().record(
                    caller.audit(
                        "crm.\(entity.rawValue).attachment_added", targetType: entity.rawValue,
                        targetID: recordID.lowercasedString,
                        changes: ["attachment": AuditEntry.Change(before: nil, after: .string(name))],
                        details: Self.details(stored)),
                    in: tx, at: now)
            }
        } catch {
            await removeBlob(key)
            throw error
        }
        return stored
    }

    /// The record's files, newest first; 404 when the record does not exist.
    func list<Record: CRMRecord>(
        _: Record.Type, of recordID: UUID, after: (Int64, UUID)?, limit: Int, by caller: Caller
    ) async throws -> [Attachment] {
        try caller.require(Self.read(Record.entity))
        return try await services.database.read(tenant: caller.tenant) { tx in
            guard try await RecordStore<Record>().find(recordID, in: tx) != nil else {
                throw DomainError.notFound(entity: Record.entity.rawValue)
            }
            return try await AttachmentStore().list(
                of: Record.entity, id: recordID, after: after, limit: limit, in: tx)
        }
    }

    /// One file and its bytes; 403 for a caller who may read no kind of record, 404 when it does not exist or
    /// the caller may not read its record's kind (a file of a deal is not there for someone who may not see deals).
    func open(_ id: ID<Attachment>, by caller: Caller) async throws -> (Attachment, BlobDownload) {
        try Self.requireAny([.crmLeadsRead, .crmDealsRead], caller)
        let found = try await services.database.read(tenant: caller.tenant) { tx in
            try await AttachmentStore().find(id, in: tx)
        }
        guard let attachment = found, caller.principal.permissions.contains(Self.read(attachment.recordType)) else {
            throw DomainError.notFound(entity: "attachment")
        }
        do {
            return (attachment, try await services.blobs.get(Attachment.blobKey(id, tenant: caller.tenant)))
        } catch BlobError.notFound {
            services.logger.error(
                "crm attachment without its file",
                metadata: ["attachment.id": "\(id)", "tenant.id": "\(caller.tenant)"])
            throw Problem(status: .internalServerError, detail: "the file of this attachment is missing")
        }
    }

    /// Removes a file; 403 for a caller who may change no kind of record, 404 when it does not exist (or its
    /// record's kind is not readable), 403 without the write permission of its record's kind.
    func remove(_ id: ID<Attachment>, by caller: Caller) async throws {
        try Self.requireAny([.crmLeadsWrite, .crmDealsWrite], caller)
        let now = services.clock.now()
        let removed = try await services.database.write(tenant: caller.tenant) { tx -> Attachment in
            guard let attachment = try await AttachmentStore().find(id, in: tx),
                caller.principal.permissions.contains(Self.read(attachment.recordType))
            else { throw DomainError.notFound(entity: "attachment") }
            try caller.require(Self.write(attachment.recordType))
            try await AttachmentStore().delete(id, in: tx)
            try await AuditTrail().record(
                caller.audit(
                    "crm.\(attachment.recordType.rawValue).attachment_removed",
                    targetType: attachment.recordType.rawValue, targetID: attachment.recordID.lowercasedString,
                    changes: ["attachment": AuditEntry.Change(before: .string(attachment.name), after: nil)],
                    details: Self.details(attachment)),
                in: tx, at: now)
            return attachment
        }
        await removeBlob(try Attachment.blobKey(removed.id, tenant: caller.tenant))
    }

    /// 403 unless the caller holds one of `permissions` (checked before anything is looked up).
    static func requireAny(_ permissions: [Permission], _ caller: Caller) throws {
        guard permissions.contains(where: caller.principal.permissions.contains) else {
            throw Problem(
                status: .forbidden,
                detail:
                    "this action needs one of the \(permissions.map(\.description).joined(separator: ", ")) permissions"
            )
        }
    }

    private func exists<Record: CRMRecord>(_: Record.Type, _ id: UUID, _ caller: Caller) async throws -> Bool {
        try await services.database.read(tenant: caller.tenant) { tx in
            try await RecordStore<Record>().find(id, in: tx) != nil
        }
    }

    /// Deletes a blob no row points to; a failure is logged (the blob is then an orphan, nothing refers to it).
    private func removeBlob(_ key: BlobKey) async {
        do { try await services.blobs.delete(key) } catch {
            services.logger.warning(
                "crm attachment file left behind", metadata: ["blob.key": "\(key)", "error.message": "\(error)"])
        }
    }

    static func details(_ attachment: Attachment) -> [String: JSONValue] {
        [
            "attachment_id": .string(attachment.id.description), "content_type": .string(attachment.contentType),
            "size": .integer(attachment.size),
        ]
    }
}
