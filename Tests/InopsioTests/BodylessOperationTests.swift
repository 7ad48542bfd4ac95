import Foundation
import HTTPTypes
import Kernel
import TestSupport
import Testing

/// API.md: an operation without a body refuses a malformed one like any other (400), and members it cannot take
/// are unknown fields (400). Generated from every served OpenAPI document: every documented `POST`, `PUT`,
/// `PATCH` and `DELETE` without a request body.
@Suite struct BodylessOperationTests {
    @Test(arguments: TestBackend.available)
    func everyBodylessWriteRefusesMalformedJSONAndAnyMember(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let admin = try await api.signUp(slug: "bodyless-\(backend)")
            let writes: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]
            let bodyless = api.operations.filter { $0.bodySchema == nil && writes.contains($0.method) }
            #expect(bodyless.count > 10, "documents read: \(api.operations.count) operations")
            for operation in bodyless {
                let malformed = try await api.sendRaw(operation, body: "{\"oops", token: admin.token)
                #expect(
                    malformed.status == .badRequest, "\(operation) malformed: \(malformed.status) \(malformed.body)")
                let member = try await api.sendRaw(operation, body: #"{"unexpected": 1}"#, token: admin.token)
                #expect(
                    member.status == .badRequest && member.problemFields == ["unexpected"],
                    "\(operation) with a member: \(member.status) \(member.body)")
            }
        }
    }
}
