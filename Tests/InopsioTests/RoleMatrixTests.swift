import Foundation
import HTTPTypes
import Kernel
import TestSupport
import Testing

/// Issue 19, point 5 (b): the role × route matrix, generated from every served OpenAPI document. Each built-in
/// role's permissions (as `GET /api/v1/identity/roles` lists them) are given to an API key; every operation that
/// names its permission (`x-permission`) is called with each key: 403 exactly when the role lacks that permission,
/// never 403 when it has it (then the answer may be 2xx, 404 for the made-up ids, 409 or 422 for the sample body).
///
/// Simplification: a role is exercised through an API key holding its permissions, not through a user holding the
/// role; both are checked by the same permission set on the principal.
@Suite struct RoleMatrixTests {
    @Test(arguments: TestBackend.available)
    func eachBuiltInRoleGetsExactlyTheDocumentedRefusals(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let admin = try await api.signUp(slug: "roles-\(backend)")
            let roles = try await api.client.execute(
                uri: "/api/v1/identity/roles", method: .get, headers: [.authorization: "Bearer \(admin.token)"]
            ) { response in
                DocumentedAPI.Reply(
                    status: response.status, headers: response.headers, body: String(buffer: response.body))
            }
            guard case .object(let page)? = roles.json, case .array(let items)? = page["data"] else {
                throw DocumentedAPIError.setUpFailed("roles: \(roles.body)")
            }
            var keys: [(role: String, permissions: Set<String>, token: String)] = []
            for item in items {
                guard case .object(let role) = item, role["built_in"] == .bool(true),
                    case .string(let name)? = role["name"],
                    case .array(let granted)? = role["permissions"]
                else { continue }
                let permissions = granted.compactMap { value -> String? in
                    if case .string(let text) = value { return text }
                    return nil
                }
                let created = try await api.post(
                    "/api/v1/identity/api-keys",
                    body: ["name": .string("role \(name)"), "permissions": .array(permissions.map(JSONValue.string))],
                    token: admin.token)
                guard case .object(let key)? = created.json, case .string(let secret)? = key["secret"] ?? key["key"]
                else { throw DocumentedAPIError.setUpFailed("api key for \(name): \(created.status) \(created.body)") }
                keys.append((name, Set(permissions), secret))
            }
            #expect(Set(keys.map(\.role)).isSuperset(of: ["tenant-admin", "manager", "user", "auditor"]))
            var checked = 0
            // Reads first, then writes: a write may remove what a later read would have found (it only makes the
            // answer a 404, which is no 403).
            let operations = api.operations.filter { $0.permission != nil }.sorted {
                ($0.method == .get ? 0 : 1) < ($1.method == .get ? 0 : 1)
            }
            for operation in operations {
                let permission = operation.permission!
                for key in keys {
                    let reply = try await api.send(operation, body: operation.sampleBody, token: key.token)
                    checked += 1
                    if key.permissions.contains(permission) {
                        #expect(
                            reply.status != .forbidden && reply.status != .unauthorized,
                            "\(operation) as \(key.role) (has \(permission)): \(reply.status) \(reply.body)")
                    } else {
                        #expect(
                            reply.status == .forbidden,
                            "\(operation) as \(key.role) (lacks \(permission)): \(reply.status) \(reply.body)")
                    }
                }
            }
            #expect(checked >= 100, "operation × role pairs checked: \(checked)")
        }
    }
}
