import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import TestSupport
import Testing

@testable import CRM

/// Files on CRM records, stored in the blob store: on both databases, with the filesystem and the S3 backend
/// (moto on loopback).
@Suite struct AttachmentTests {
    static let pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"

    /// Sends `bytes` as a file of `type` to `path`.
    static func upload(
        _ crm: CRMHarness, _ path: String, name: String?, type: String?, bytes: [UInt8],
        auth: String = CRMHarness.admin
    ) async throws -> Reply {
        var headers: HTTPFields = [.authorization: auth]
        if let type { headers[.contentType] = type }
        let query =
            name.map { "?name=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return try await crm.client.execute(
            uri: path + "/attachments" + query, method: .post, headers: headers, body: ByteBuffer(bytes: bytes)
        ) { response in
            Reply(status: response.status, body: String(buffer: response.body), headers: response.headers)
        }
    }

    static var combinations: [(TestBackend, TestBlobBackend)] {
        // Each database with each blob backend would be four runs of the same code; two cover both of each.
        let databases = TestBackend.available
        let blobs = TestBlobBackend.available
        return [(databases[0], blobs[0]), (databases.last!, blobs.last!)]
    }

    @Test(arguments: combinations)
    func attachListDownloadAndRemove(_ backend: TestBackend, _ blobBackend: TestBlobBackend) async throws {
        try await withTestBlobStore(blobBackend) { blobs in
            try await withCRM(backend, blobs: blobs) { crm in
                let lead = try await crm.lead(#"{"first_name": "Ada", "email": "ada@example.com"}"#)
                let path = "/api/v1/crm/leads/\(lead)"
                let name = "Offre signée (v2).pdf"
                let reply = try await Self.upload(
                    crm, path, name: name, type: "application/pdf", bytes: Array(Self.pdf.utf8))
                #expect(reply.status == .created, "\(reply.body)")
                let attachment = try reply.object()
                let id = try #require(attachment["id"] as? String)
                #expect(attachment["name"] as? String == name)
                #expect(attachment["content_type"] as? String == "application/pdf")
                #expect(attachment["size"] as? Int == Self.pdf.utf8.count)
                let digest = SHA256.hash(data: Data(Self.pdf.utf8)).map { String(format: "%02x", $0) }.joined()
                #expect(attachment["sha256"] as? String == digest)
                #expect(reply.headers[.location] == "/api/v1/crm/attachments/\(id)")

                let list = try await crm.call(.get, "\(path)/attachments")
                #expect(list.status == .ok)
                #expect(try list.ids() == [id])

                let content = try await crm.call(.get, "/api/v1/crm/attachments/\(id)/content")
                #expect(content.status == .ok)
                #expect(content.body == Self.pdf)
                #expect(content.headers[.contentType] == "application/pdf")
                let disposition = try #require(content.headers[.contentDisposition])
                #expect(disposition.hasPrefix("attachment; filename=\"Offre sign_e (v2).pdf\""))
                #expect(disposition.hasSuffix("filename*=UTF-8''Offre%20sign%C3%A9e%20%28v2%29.pdf"))

                // On the lead's timeline, as a change.
                let timeline = try await crm.call(.get, "\(path)/timeline")
                #expect(timeline.body.contains("crm.lead.attachment_added"))

                // Someone who may only read leads sees the file but may not remove it.
                #expect(
                    try await crm.call(.get, "/api/v1/crm/attachments/\(id)", auth: CRMHarness.reader).status == .ok)
                #expect(
                    try await crm.call(.delete, "/api/v1/crm/attachments/\(id)", auth: CRMHarness.reader).status
                        == .forbidden)
                #expect(try await crm.call(.delete, "/api/v1/crm/attachments/\(id)").status == .noContent)
                #expect(try await crm.call(.get, "/api/v1/crm/attachments/\(id)/content").status == .notFound)
                #expect(try await crm.call(.get, "\(path)/attachments").ids() == [])
                // The bytes are gone from the store too.
                let key = try BlobKey("tenants/\(TestAuthenticator.tenant)/crm/attachments/\(id)")
                await #expect(throws: BlobError.notFound(key.path)) { _ = try await blobs.get(key) }
                #expect(
                    try await crm.auditActions().suffix(2) == [
                        "crm.lead.attachment_added", "crm.lead.attachment_removed",
                    ])
            }
        }
    }

    @Test(arguments: combinations)
    func refusedUploadsLeaveNothing(_ backend: TestBackend, _ blobBackend: TestBlobBackend) async throws {
        try await withTestBlobStore(blobBackend) { blobs in
            // Without a gateway in front (a CRM process of its own): the upload path's limit is max_upload_bytes,
            // every other path keeps max_body_bytes.
            let limits: @Sendable (inout InopsioConfiguration) -> Void = {
                $0.maxUploadBytes = 1_000
                $0.maxBodyBytes = 100
            }
            try await withCRM(backend, blobs: blobs, configure: limits) { crm in
                let lead = try await crm.lead(#"{"first_name": "Bob", "email": "bob@example.com"}"#)
                let path = "/api/v1/crm/leads/\(lead)"
                // A page a browser would render, a PDF that is not one, a file over the limit, a name with a path.
                let html = try await Self.upload(crm, path, name: "x.html", type: "text/html", bytes: Array("<p>".utf8))
                #expect(html.status == .unsupportedMediaType)
                #expect((try html.object()["accepted"] as? [String])?.contains("application/pdf") == true)
                let fake = try await Self.upload(
                    crm, path, name: "x.pdf", type: "application/pdf", bytes: [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0, 1])
                #expect(fake.status == .unsupportedMediaType, "\(fake.body)")
                let large = try await Self.upload(
                    crm, path, name: "big.txt", type: "text/plain", bytes: Array(repeating: 0x61, count: 1_001))
                #expect(large.status == .contentTooLarge, "\(large.body)")
                let named = try await Self.upload(crm, path, name: "../etc/passwd", type: "text/plain", bytes: [0x61])
                #expect(named.status == .unprocessableContent)
                #expect(try named.errorFields() == ["name"])
                let missing = try await Self.upload(
                    crm, "/api/v1/crm/leads/\(UUID())", name: "a.txt", type: "text/plain", bytes: [0x61])
                #expect(missing.status == .notFound)
                let reader = try await Self.upload(
                    crm, path, name: "a.txt", type: "text/plain", bytes: [0x61], auth: CRMHarness.reader)
                #expect(reader.status == .forbidden)
                #expect(try await crm.call(.get, "\(path)/attachments").ids() == [])
                let rows = try await crm.database.read(tenant: TestAuthenticator.tenant) { tx in
                    try await tx.sql.raw("SELECT COUNT(*) AS n FROM crm_attachments").first()?.decode(
                        column: "n", as: Int.self)
                }
                #expect(rows == 0)
                // The limit is a limit: exactly 1,000 bytes are taken.
                let exact = try await Self.upload(
                    crm, path, name: "ok.txt", type: "text/plain; charset=utf-8",
                    bytes: Array(repeating: 0x61, count: 1_000))
                #expect(exact.status == .created, "\(exact.body)")
                #expect(try exact.object()["content_type"] as? String == "text/plain")
                let long = String(repeating: "x", count: 200)
                #expect(
                    try await crm.call(.post, "/api/v1/crm/leads", json: #"{"first_name": "\#(long)"}"#).status
                        == .contentTooLarge)
            }
        }
    }

    /// Files of deals are there only for those who may read deals; a page of the list continues where it ended.
    @Test(arguments: TestBackend.available)
    func dealFilesFollowDealPermissionsAndListsPage(_ backend: TestBackend) async throws {
        try await withCRM(backend) { crm in
            let deal = try await crm.deal(#"{"name":"Big one","value":{"amount_minor":100000,"currency":"EUR"}}"#)
            let path = "/api/v1/crm/deals/\(try #require(deal["id"] as? String))"
            var ids: [String] = []
            for index in 0..<3 {
                let reply = try await Self.upload(
                    crm, path, name: "note-\(index).txt", type: "text/plain", bytes: Array("note \(index)".utf8))
                #expect(reply.status == .created, "\(reply.body)")
                ids.append(try #require(try reply.object()["id"] as? String))
            }
            // Newest first, two per page.
            let first = try await crm.call(.get, "\(path)/attachments?limit=2")
            #expect(try first.ids() == [ids[2], ids[1]])
            let cursor = try #require(try first.object()["next_cursor"] as? String)
            let second = try await crm.call(.get, "\(path)/attachments?limit=2&cursor=\(cursor)")
            #expect(try second.ids() == [ids[0]])
            #expect(try second.object()["next_cursor"] is NSNull)
            // A leads-only reader: no deal's files, and 404 (not 403) for one of them.
            #expect(try await crm.call(.get, "\(path)/attachments", auth: CRMHarness.reader).status == .forbidden)
            #expect(
                try await crm.call(.get, "/api/v1/crm/attachments/\(ids[0])/content", auth: CRMHarness.reader).status
                    == .notFound)
            // Another tenant sees none of them.
            #expect(
                try await crm.call(.get, "/api/v1/crm/attachments/\(ids[0])", auth: CRMHarness.otherAdmin).status
                    == .notFound)
            #expect(
                try await crm.call(.delete, "/api/v1/crm/attachments/\(ids[0])", auth: CRMHarness.otherAdmin).status
                    == .notFound)
        }
    }

    @Test func contentDispositionKeepsAnyNameSafe() {
        #expect(
            AttachmentRoutes.contentDisposition("a\"b\\c%d.txt")
                == "attachment; filename=\"a_b_c_d.txt\"; filename*=UTF-8''a%22b%5Cc%25d.txt")
        #expect(
            AttachmentRoutes.contentDisposition("تقرير.pdf")
                == "attachment; filename=\"_____.pdf\"; filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.pdf")
    }
}
