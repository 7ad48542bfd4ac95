import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import TestSupport
import Testing

@testable import Inopsio

/// A module's upload paths through the gateway of the composed application: `max_upload_bytes` instead of
/// `max_body_bytes`, and no inspection (which reads text bodies up to 2 MiB and refuses larger ones).
@Suite struct UploadPathTests {
    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String?,
        type: String, body: ByteBuffer
    ) async throws -> (HTTPResponse.Status, String) {
        var headers: HTTPFields = [.contentType: type, .accept: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            (response.status, String(buffer: response.body))
        }
    }

    @Test func uploadsTakeTheirOwnLimitThroughTheGateway() async throws {
        let limits: @Sendable (inout InopsioConfiguration) -> Void = {
            $0.maxBodyBytes = 64 * 1024
            $0.maxUploadBytes = 4 * 1_048_576
        }
        try await withComposedApp(configure: limits) { client in
            let signUp: JSONValue = [
                "tenant_slug": "uploads", "tenant_name": "Uploads Ltd", "name": "Ada",
                "email": "ada@uploads.example", "password": "correct horse battery staple",
            ]
            let (signed, answer) = try await Self.send(
                client, .post, "/api/v1/identity/signup", token: nil, type: "application/json",
                body: ByteBuffer(string: signUp.jsonText))
            #expect(signed == .created, "\(answer)")
            guard case .object(let fields)? = try? JSONValue(parsing: answer),
                case .object(let tokens)? = fields["tokens"],
                case .string(let token)? = tokens["access_token"]
            else { Issue.record("no token: \(answer)"); return }
            let (created, lead) = try await Self.send(
                client, .post, "/api/v1/crm/leads", token: token, type: "application/json",
                body: ByteBuffer(string: #"{"first_name": "Grace", "email": "grace@example.com"}"#))
            #expect(created == .created, "\(lead)")
            guard case .object(let record)? = try? JSONValue(parsing: lead), case .string(let id)? = record["id"] else {
                Issue.record("no lead: \(lead)")
                return
            }
            // 3 MiB of text: over max_body_bytes and over what inspection reads, under max_upload_bytes.
            let text = ByteBuffer(repeating: UInt8(ascii: "a"), count: 3 * 1_048_576)
            let (uploaded, attachment) = try await Self.send(
                client, .post, "/api/v1/crm/leads/\(id)/attachments?name=notes.txt", token: token, type: "text/plain",
                body: text)
            #expect(uploaded == .created, "\(attachment)")
            #expect(attachment.contains("\"size\":3145728"))
            // Over max_upload_bytes.
            let (tooLarge, _) = try await Self.send(
                client, .post, "/api/v1/crm/leads/\(id)/attachments?name=big.txt", token: token, type: "text/plain",
                body: ByteBuffer(repeating: UInt8(ascii: "a"), count: 5 * 1_048_576))
            #expect(tooLarge == .contentTooLarge)
            // Every other path keeps max_body_bytes.
            let (refused, _) = try await Self.send(
                client, .post, "/api/v1/crm/leads", token: token, type: "application/json",
                body: ByteBuffer(string: #"{"first_name": "\#(String(repeating: "x", count: 70 * 1024))"}"#))
            #expect(refused == .contentTooLarge)
        }
    }

    @Test func uploadPathTemplatesMatchWholeSegmentsOfPosts() {
        let paths = UploadPaths(["/api/v1/crm/{kind}/{id}/attachments"])
        #expect(paths.matches(method: .post, path: "/api/v1/crm/leads/123/attachments"))
        #expect(!paths.matches(method: .put, path: "/api/v1/crm/leads/123/attachments"))
        #expect(!paths.matches(method: .post, path: "/api/v1/crm/leads//attachments"))
        #expect(!paths.matches(method: .post, path: "/api/v1/crm/leads/123/attachments/x"))
        #expect(!paths.matches(method: .post, path: "/api/v1/crm/leads/123"))
        #expect(!UploadPaths([]).matches(method: .post, path: "/api/v1/crm/leads/123/attachments"))
    }
}
