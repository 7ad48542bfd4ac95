import Foundation
import HTTPTypes
import Kernel
import TestSupport
import Testing

/// API.md: text never carries NUL; it is a 422 naming the field, decided before any SQL, the same on SQLite and
/// PostgreSQL (which refuses NUL in text with `22021`, and used to answer 500). Generated from every served
/// OpenAPI document: every string place of every documented request body, one at a time.
@Suite struct UnstorableTextTests {
    @Test(arguments: TestBackend.available)
    func everyStringOfEveryDocumentedBodyRefusesNULNamingTheField(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let admin = try await api.signUp(slug: "nul-\(backend)")
            let withBodies = api.operations.filter { $0.bodySchema != nil }
            #expect(withBodies.count > 40, "documents read: \(api.operations.count) operations")
            var tried = 0
            // A file's bytes are data, not text: NUL is any byte there.
            for operation in withBodies where !operation.takesFile {
                guard let sample = operation.sampleBody else { continue }
                // A place in every body, documented fields or not: an extra member whose name holds NUL.
                var cases = sample.stringPlaces.map { place in
                    (place, sample.replacingString(at: place, with: "a\u{0}b"))
                }
                if case .object(var fields) = sample, operation.bodyType.contains("json") {
                    fields["bad\u{0}name"] = "x"
                    cases.append(("bad\\u0000name", .object(fields)))
                }
                for (place, body) in cases {
                    tried += 1
                    let reply = try await api.send(operation, body: body, token: admin.token)
                    let form = !operation.bodyType.contains("json")
                    if form {
                        // OAuth endpoints answer in RFC 6749's format (400 invalid_request) where they must.
                        #expect(
                            [.badRequest, .unprocessableContent].contains(reply.status),
                            "\(operation) \(place): \(reply.status) \(reply.body)")
                    } else if operation.hasPathParameters && reply.status == .notFound {
                        // Nothing exists under a made-up id (or slug); a handler may look first, and a 404 stores
                        // nothing either. Most decode the body first and answer the 422 below.
                        continue
                    } else {
                        #expect(
                            reply.status == .unprocessableContent && reply.problemFields.contains(place),
                            "\(operation) \(place): \(reply.status) \(reply.body)")
                    }
                }
            }
            #expect(tried > 100)
        }
    }

    @Test func nulIsFoundInValuesAndKeysAtAnyDepth() throws {
        let value = try JSONValue(parsing: #"{"a":"ok","b":["x","y\u0000"],"c":{"d\u0000":1,"e":{"f":"\u0000"}}}"#)
        #expect(StorableText.issues(in: value).map(\.field) == ["b[1]", "c.d\\u0000", "c.e.f"])
        #expect(StorableText.issues(in: .string("plain")).isEmpty)
    }
}
