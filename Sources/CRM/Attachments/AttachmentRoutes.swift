import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore
import Platform

/// Files on records, as JSON (the service holds the use cases):
/// - `POST /api/v1/crm/{leads|contacts|companies|deals}/{id}/attachments?name=` with the file as the body and its
///   type as `Content-Type` (streamed to the blob store, up to `max_upload_bytes`): 201 and the attachment;
/// - `GET` of the same path: the record's files, newest first, paged;
/// - `GET /api/v1/crm/attachments/{id}`: one file's description; `GET .../content`: its bytes, as a download;
/// - `DELETE /api/v1/crm/attachments/{id}`: 204.
struct AttachmentRoutes: Sendable {
    let service: AttachmentService

    /// The upload path, for the body limit (`Module.uploadPaths`).
    static let uploadPaths = ["\(CRMPaths.api)/{kind}/{id}/attachments"]

    func register(on routes: RouteRegistrar) {
        register(Lead.self, plural: "leads", on: routes)
        register(Contact.self, plural: "contacts", on: routes)
        register(Company.self, plural: "companies", on: routes)
        register(Deal.self, plural: "deals", on: routes)
        routes.get("\(CRMPaths.api)/attachments/{id}") { request, context in
            let (attachment, _) = try await service.open(Self.id(context), by: context.caller(request))
            return try JSONResponse.make(attachment)
        }
        routes.get("\(CRMPaths.api)/attachments/{id}/content") { request, context in
            let (attachment, download) = try await service.open(Self.id(context), by: context.caller(request))
            return Self.download(attachment, download)
        }
        routes.delete("\(CRMPaths.api)/attachments/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try await service.remove(Self.id(context), by: context.caller(request))
                return Response(status: .noContent)
            }
        }
    }

    func register<Record: CRMRecord>(_: Record.Type, plural: String, on routes: RouteRegistrar) {
        let path = "\(CRMPaths.api)/\(plural)/{id}/attachments"
        routes.post(RouterPath(path)) { request, context in
            let caller = try context.caller(request)
            let attachment = try await service.attach(
                Record.self, to: Self.recordID(context, Record.entity),
                name: request.uri.queryParameters["name"].map(String.init),
                contentType: request.headers[.contentType], body: request.body, by: caller)
            return try JSONResponse.make(
                attachment, status: .created,
                headers: [.location: "\(CRMPaths.api)/attachments/\(attachment.id.description)"])
        }
        routes.get(RouterPath(path)) { request, context in
            let caller = try context.caller(request)
            let limit = try request.pageLimit()
            let after = try Self.position(request)
            let items = try await service.list(
                Record.self, of: Self.recordID(context, Record.entity), after: after, limit: limit + 1, by: caller)
            let page = Array(items.prefix(limit))
            let next = items.count > limit ? page.last.map { Self.cursor($0) } : nil
            return try JSONResponse.make(Page(data: page, nextCursor: next))
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<Attachment> {
        try ID<Attachment>.path(context, entity: "attachment")
    }

    static func recordID(_ context: AppRequestContext, _ entity: CustomField.Entity) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: entity.rawValue)
        }
        return id
    }

    /// The list's cursor: the last item's time and id.
    static func cursor(_ attachment: Attachment) -> Cursor {
        Cursor(position: "\(attachment.createdAt.epochMilliseconds)|\(attachment.id.description)")
    }

    static func position(_ request: Request) throws -> (Int64, UUID)? {
        guard let text = try request.cursorPosition() else { return nil }
        let parts = text.split(separator: "|")
        guard parts.count == 2, let time = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
        }
        return (time, id)
    }

    /// The bytes as a download: never shown inline by a browser (`Content-Disposition: attachment`, and the
    /// platform's `nosniff`), the file name in both forms of RFC 6266.
    static func download(_ attachment: Attachment, _ download: BlobDownload) -> Response {
        var headers: HTTPFields = [
            .contentType: attachment.contentType,
            .contentDisposition: contentDisposition(attachment.name),
            .cacheControl: "private, no-cache",
            .eTag: "\"\(attachment.sha256)\"",
        ]
        if let size = download.size { headers[.contentLength] = String(size) }
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: download.body))
    }

    /// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266, RFC 8187).
    static func contentDisposition(_ name: String) -> String {
        let fallback = String(
            name.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar != "%"
                    ? Character(scalar) : "_"
            })
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(0x7F)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
