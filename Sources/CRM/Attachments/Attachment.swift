import Foundation
import Kernel
import NIOCore
import Platform

/// A file attached to a lead, contact, company or deal. Its bytes are in the blob store under `blobKey(_:tenant:)`; this is
/// what the CRM knows of it.
struct Attachment: Sendable, Encodable {
    let id: ID<Attachment>
    let recordType: CustomField.Entity
    let recordID: UUID
    /// The file's name as the uploader gave it (checked by `AttachmentRules.name`).
    let name: String
    let contentType: String
    let size: Int64
    /// Hex SHA-256 of the bytes.
    let sha256: String
    let createdBy: String
    let createdAt: Date

    /// Where its bytes are: the key names the tenant, so a key never points into another tenant's files.
    static func blobKey(_ id: ID<Attachment>, tenant: TenantID) throws -> BlobKey {
        try BlobKey("tenants/\(tenant)/crm/attachments/\(id)")
    }

    enum CodingKeys: String, CodingKey {
        case id, name, size, sha256, record
        case contentType = "content_type"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case contentURL = "content_url"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.description, forKey: .id)
        try container.encode(
            ["type": recordType.rawValue, "id": recordID.lowercasedString], forKey: .record)
        try container.encode(name, forKey: .name)
        try container.encode(contentType, forKey: .contentType)
        try container.encode(size, forKey: .size)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode("/api/v1/crm/attachments/\(id.description)/content", forKey: .contentURL)
    }
}

/// What may be attached: rules without I/O.
enum AttachmentRules {
    /// The content types accepted, each with the bytes its files start with where the type has such a signature
    /// (a file declared as a PDF that does not start like one is refused). Types a browser would run or render
    /// as a page (HTML, SVG, JavaScript) are not accepted; every download is served as an attachment anyway.
    static let types: [String: [[UInt8]]] = [
        "application/pdf": [Array("%PDF-".utf8)],
        "image/png": [[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]],
        "image/jpeg": [[0xFF, 0xD8, 0xFF]],
        "image/gif": [Array("GIF87a".utf8), Array("GIF89a".utf8)],
        "image/webp": [Array("RIFF".utf8)],
        "text/plain": [],
        "text/csv": [],
        "application/json": [],
        "application/zip": [zip],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [zip],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [zip],
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": [zip],
        "application/vnd.oasis.opendocument.text": [zip],
        "application/vnd.oasis.opendocument.spreadsheet": [zip],
        "application/msword": [compoundDocument],
        "application/vnd.ms-excel": [compoundDocument],
        "message/rfc822": [],
        "application/octet-stream": [],
    ]
    static let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    static let compoundDocument: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
    /// The most bytes any signature needs.
    static let signatureLength = 8

    /// The declared type's essence (`text/plain; charset=utf-8` → `text/plain`) when it is accepted; else 415
    /// naming the accepted types (`accepted`).
    static func contentType(_ declared: String?) throws -> String {
        let essence = (declared ?? "").split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard let essence, types[essence] != nil else {
            var problem = Problem(
                status: .unsupportedMediaType,
                detail: essence.map { "files of type \($0.prefix(100)) cannot be attached" }
                    ?? "give the file's type in Content-Type")
            problem.extensions["accepted"] = .array(types.keys.sorted().map { .string($0) })
            throw problem
        }
        return essence
    }

    /// Whether a file of `type` may start with `head` (its first `signatureLength` bytes, fewer for a shorter file).
    static func matches(type: String, head: [UInt8]) -> Bool {
        guard let signatures = types[type], !signatures.isEmpty else { return true }
        return signatures.contains { head.starts(with: $0) }
    }

    /// The file name: 1 to 255 characters, no control characters, no path (`/`, `\`), not `.` or `..`.
    static func name(_ given: String?) throws -> String {
        let name = (given ?? "").trimmingCharacters(in: .whitespaces)
        let problem = Problem.validation([
            FieldIssue(field: "name", code: "invalid", message: "give the file's name (1 to 255 characters, no path)")
        ])
        guard (1...255).contains(name.count), name != ".", name != "..",
            !name.unicodeScalars.contains(where: {
                $0.properties.generalCategory == .control || $0 == "/" || $0 == "\\"
            })
        else { throw problem }
        return name
    }
}

/// An upload's bytes, refused (415) when the first ones do not match the declared type's signature: the rest of
/// the file streams through untouched.
struct SignatureCheckedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let type: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let type: String
        var checked = false

        mutating func next() async throws -> ByteBuffer? {
            guard !checked else { return try await base.next() }
            checked = true
            // Gathers the signature's bytes (a client may send them in several pieces).
            var head = ByteBuffer()
            while head.readableBytes < AttachmentRules.signatureLength, var chunk = try await base.next() {
                head.writeBuffer(&chunk)
            }
            let prefix =
                head.getBytes(
                    at: head.readerIndex, length: Swift.min(head.readableBytes, AttachmentRules.signatureLength)) ?? []
            guard AttachmentRules.matches(type: type, head: prefix) else {
                throw Problem(
                    status: .unsupportedMediaType, detail: "the file's content is not of the type it declares (\(type))"
                )
            }
            return head.readableBytes > 0 ? head : try await base.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), type: type)
    }
}
