import Foundation
import HTTPTypes
import Kernel
import TestSupport
import Testing

/// Issue 19, point 5 (a): the cross-tenant matrix, generated from every served OpenAPI document. Tenant A makes one
/// record of every collection an admin can create with its documented sample body (plus the records the reference
/// test makes); then tenant B's admin calls every operation whose path names one of A's records, with the sample
/// body: each answers 404, and A's records read the same afterwards.
@Suite struct CrossTenantMatrixTests {
    @Test(arguments: TestBackend.available)
    func anotherTenantsAdminFindsNothingOnAnyRouteWithAnID(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let a = try await api.signUp(slug: "matrix-a-\(backend)")
            let b = try await api.signUp(slug: "matrix-b-\(backend)")
            var ids = try await CrossTenantReferenceTests.records(api, a).pathIDs
            // B's own records, so that the references of a sample body are valid for B: only the path varies.
            let own = try await CrossTenantReferenceTests.records(api, b)
            ids["/api/v1/identity/users"] = a.userID
            // Collections whose documented sample body is not accepted as it is (a reachable URL, a real permission,
            // a kind of record, the template and list a campaign names).
            let templateKey = "matrix-\(UUID().uuidString.prefix(8).lowercased())"
            let template = try await api.post(
                "/api/v1/messaging/templates",
                body: [
                    "key": .string(templateKey), "locale": "en", "name": "Matrix", "subject": "Hi", "html": "<p>Hi</p>",
                    "text": "Hi",
                ], token: a.token)
            #expect(template.status == .created, "making a template: \(template.body)")
            let bodies: [String: JSONValue] = [
                "/api/v1/messaging/webhooks": [
                    "url": "https://198.51.100.7/hook", "event_types": ["crm.lead.created"],
                ],
                "/api/v1/identity/api-keys": ["name": "matrix", "permissions": ["crm.leads:read"]],
                "/api/v1/crm/views": ["entity": "lead", "name": "Matrix", "query": "status=new"],
                "/api/v1/crm/custom-fields": ["entity": "lead", "key": "matrix", "label": "Matrix", "type": "text"],
                "/api/v1/identity/oauth-clients": [
                    "name": "Matrix", "client_type": "confidential", "redirect_uris": ["https://app.example.com/cb"],
                ],
                "/api/v1/identity/providers": [
                    "kind": "github", "name": "GitHub", "issuer": "https://github.com", "client_id": "x",
                    "client_secret": "y",
                ],
                "/api/v1/messaging/campaigns": [
                    "name": "Matrix", "list_id": .string(ids["/api/v1/messaging/lists"] ?? ""),
                    "template_key": .string(templateKey),
                ],
            ]
            for (path, body) in bodies {
                let reply = try await api.post(path, body: body, token: a.token)
                if case .object(let fields)? = reply.json {
                    if case .string(let id)? = fields["id"] {
                        ids[path] = id
                    } else if case .string(let id)? = fields["client_id"] {
                        ids[path] = id
                    }
                }
                #expect(ids[path] != nil, "making \(path): \(reply.status) \(reply.body)")
            }
            for operation in api.operations
            where operation.method == .post && !operation.hasPathParameters && operation.needsBearer
                && ids[operation.path] == nil && operation.bodyType.contains("json")
            {
                guard let body = operation.sampleBody else { continue }
                let reply = try await api.send(operation, body: body, token: a.token)
                if (200..<300).contains(reply.status.code), case .object(let fields)? = reply.json,
                    case .string(let id)? = fields["id"]
                {
                    ids[operation.path] = id
                }
            }
            let made = ids
            let snapshot: @Sendable () async throws -> [String: String] = {
                var seen: [String: String] = [:]
                for (collection, id) in made {
                    let reply = try await api.client.execute(
                        uri: "\(collection)/\(id)", method: .get, headers: [.authorization: "Bearer \(a.token)"]
                    ) { response in
                        // A problem carries its request's id: only a record read compares whole.
                        response.status == .ok ? String(buffer: response.body) : "\(response.status.code)"
                    }
                    seen[collection] = reply
                }
                return seen
            }
            let before = try await snapshot()
            var tried: Set<String> = []
            for operation in api.operations where operation.hasPathParameters && operation.needsBearer {
                // Only where every parameter names one of A's records.
                guard let path = operation.path(naming: ids) else { continue }
                var body = operation.bodyType.contains("json") ? operation.sampleBody : nil
                if let sample = body {
                    for (place, kind) in CrossTenantReferenceTests.references(in: sample, module: operation.module)
                        .known
                    {
                        if let ours = own.ids[kind] { body = body?.replacingString(at: place, with: ours) }
                    }
                }
                let reply = try await api.send(operation, path: path, body: body, token: b.token)
                tried.insert(operation.description)
                #expect(
                    reply.status == .notFound, "\(operation) as tenant B on A's record: \(reply.status) \(reply.body)")
            }
            let after = try await snapshot()
            for (collection, state) in before {
                #expect(after[collection] == state, "\(collection)/\(ids[collection] ?? "") changed")
            }
            #expect(tried.count >= 60, "operations tried: \(tried.count); collections made: \(ids.keys.sorted())")
        }
    }
}
