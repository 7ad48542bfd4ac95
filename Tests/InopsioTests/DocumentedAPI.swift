import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import TestSupport
import Testing

@testable import Inopsio

/// Every module of the binary served the way a module process is in the split topology: no gateway in front, so
/// nothing of the edge's inspection stands between a client and the modules' own checks. The generated contract
/// tests run every operation of every served OpenAPI document through it, so a new module's routes are covered
/// as soon as its document lists them.
struct DocumentedAPI: Sendable {
    let client: any TestClientProtocol
    let backend: TestBackend
    let database: any Database
    /// The modules served, and the box that seals their secrets.
    let modules: [any Module]
    let secrets: SecretBox
    /// Every operation of every module's document.
    let operations: [DocumentedOperation]

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String

        var json: JSONValue? { try? JSONValue(parsing: body) }

        /// The `field`s of a problem's `errors`.
        var problemFields: [String] {
            guard case .object(let fields)? = json, case .array(let errors)? = fields["errors"] else { return [] }
            return errors.compactMap { error in
                guard case .object(let issue) = error, case .string(let field)? = issue["field"] else { return nil }
                return field
            }
        }
    }

    /// Runs `body` with a fresh database of `backend` and every module but the gateway.
    static func with(_ backend: TestBackend, _ body: @Sendable (DocumentedAPI) async throws -> Void) async throws {
        let modules = ModuleCatalog.all().filter { !($0 is GatewayModule) }
        try await withTestDatabase(backend, migrations: PlatformMigrations.all + modules.flatMap(\.migrations)) {
            database, configuration in
            let secrets = SecretBox.ephemeral()
            let context = try makeModuleContext(
                configuration: configuration, database: database, modules: modules, logger: TestEnvironment.logger,
                secrets: secrets)
            let app = try buildApplication(
                configuration: configuration, database: database, modules: modules, sink: nil,
                logger: TestEnvironment.logger, context: context)
            try await app.test(.router) { client in
                var operations: [DocumentedOperation] = []
                for module in modules {
                    let path = "/api/v1/\(module.name)/openapi.json"
                    let document = try await client.execute(uri: path, method: .get) { response in
                        response.status == .ok ? try? JSONValue(parsing: String(buffer: response.body)) : nil
                    }
                    if let document { operations += DocumentedOperation.all(in: document, module: module.name) }
                }
                try await body(
                    DocumentedAPI(
                        client: client, backend: backend, database: database, modules: modules, secrets: secrets,
                        operations: operations))
            }
        }
    }

    /// Sends `body` (JSON or form, as the operation takes) with `token` as the bearer credential.
    func send(_ operation: DocumentedOperation, path: String? = nil, body: JSONValue?, token: String?) async throws
        -> Reply
    {
        var headers: HTTPFields = [.accept: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = operation.bodyType
            buffer = ByteBuffer(string: operation.bodyType.contains("json") ? body.jsonText : body.formText)
        }
        return try await client.execute(
            uri: path ?? operation.concretePath, method: operation.method, headers: headers, body: buffer
        ) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// Sends `text` as an `application/json` body, whatever the operation documents.
    func sendRaw(_ operation: DocumentedOperation, body text: String, token: String?) async throws -> Reply {
        var headers: HTTPFields = [.accept: "application/json", .contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(
            uri: operation.concretePath, method: operation.method, headers: headers, body: ByteBuffer(string: text)
        ) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// A JSON `POST` to `path`.
    func post(_ path: String, body: JSONValue, token: String) async throws -> Reply {
        try await client.execute(
            uri: path, method: .post,
            headers: [.contentType: "application/json", .authorization: "Bearer \(token)"],
            body: ByteBuffer(string: body.jsonText)
        ) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// Signs up a tenant and returns its admin's access token and user id.
    func signUp(slug: String) async throws -> (token: String, userID: String) {
        let body: JSONValue = [
            "tenant_slug": .string(slug), "tenant_name": .string("Org \(slug)"), "name": "Ada Admin",
            "email": .string("admin@\(slug).example"), "password": "correct horse battery staple",
        ]
        let reply = try await client.execute(
            uri: "/api/v1/identity/signup", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: body.jsonText)
        ) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
        guard reply.status == .created, case .object(let fields)? = reply.json,
            case .object(let tokens)? = fields["tokens"], case .string(let token)? = tokens["access_token"],
            case .object(let user)? = fields["user"], case .string(let userID)? = user["id"]
        else { throw DocumentedAPIError.signUpFailed(reply.body) }
        return (token, userID)
    }
}

enum DocumentedAPIError: Error {
    case signUpFailed(String)
    case setUpFailed(String)
}

/// One operation of a served OpenAPI document, with a sample request body made from its schema.
struct DocumentedOperation: Sendable, CustomStringConvertible {
    let module: String
    let method: HTTPRequest.Method
    /// The templated path (`/api/v1/crm/leads/{id}`).
    let path: String
    let bodyType: String
    /// The body is a file (`format: binary`), not text.
    var takesFile: Bool {
        if case .object(let fields)? = bodySchema, fields["format"] == "binary" { return true }
        return false
    }
    /// The request body's schema with every `$ref` resolved (depth-limited), `nil` without a body.
    let bodySchema: JSONValue?
    /// Whether the operation needs a bearer credential.
    let needsBearer: Bool
    /// The permission the operation checks, as its document names it (`x-permission`).
    var permission: String? = nil

    var description: String { "\(method.rawValue) \(path)" }

    /// The path with every parameter filled with a fresh id (nothing exists under it).
    var concretePath: String { concretePath(ids: [:]) }

    /// The path with each parameter filled with the id `ids` has for the path before it (`/api/v1/crm/leads` for
    /// `/api/v1/crm/leads/{id}`), else a fresh one.
    func concretePath(ids: [String: String]) -> String {
        path { ids[$0] ?? UUID.v7().uuidString.lowercased() } ?? path
    }

    /// The path with each parameter filled with the id `ids` has for the collection before it, or nil when one has
    /// none.
    func path(naming ids: [String: String]) -> String? { path { ids[$0] } }

    /// The path with each parameter filled by `fill` (given the collection path before it), nil when it gives none.
    private func path(filling fill: (String) -> String?) -> String? {
        var result = ""
        var inParameter = false
        for character in path {
            if character == "{" {
                inParameter = true
                let collection = result.hasSuffix("/") ? String(result.dropLast()) : result
                guard let id = fill(collection) else { return nil }
                result += id
            } else if character == "}" {
                inParameter = false
            } else if !inParameter {
                result.append(character)
            }
        }
        return result
    }

    var hasPathParameters: Bool { path.contains("{") }

    static func all(in document: JSONValue, module: String) -> [DocumentedOperation] {
        guard case .object(let root) = document, case .object(let paths)? = root["paths"] else { return [] }
        var schemas: [String: JSONValue] = [:]
        if case .object(let components)? = root["components"], case .object(let found)? = components["schemas"] {
            schemas = found
        }
        var operations: [DocumentedOperation] = []
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard case .object(let methods) = item else { continue }
            for (name, operation) in methods.sorted(by: { $0.key < $1.key }) {
                guard let method = HTTPRequest.Method(name.uppercased()), case .object(let fields) = operation else {
                    continue
                }
                var bodyType = "application/json"
                var bodySchema: JSONValue?
                if case .object(let requestBody)? = fields["requestBody"],
                    case .object(let content)? = requestBody["content"], let (type, media) = content.first,
                    case .object(let mediaFields) = media, let schema = mediaFields["schema"]
                {
                    bodyType = type
                    bodySchema = resolve(schema, in: schemas, depth: 0)
                }
                var needsBearer = false
                if case .array(let security)? = fields["security"] {
                    needsBearer = security.contains { requirement in
                        guard case .object(let names) = requirement else { return false }
                        return names["bearer"] != nil
                    }
                }
                var permission: String?
                if case .string(let named)? = fields["x-permission"] { permission = named }
                operations.append(
                    DocumentedOperation(
                        module: module, method: method, path: path, bodyType: bodyType, bodySchema: bodySchema,
                        needsBearer: needsBearer, permission: permission))
            }
        }
        return operations
    }

    /// `schema` with `$ref`s replaced by what they name, at most 8 deep (schemas may be recursive).
    private static func resolve(_ schema: JSONValue, in schemas: [String: JSONValue], depth: Int) -> JSONValue {
        guard depth < 8 else { return [:] }
        switch schema {
        case .object(let fields):
            if case .string(let reference)? = fields["$ref"] {
                let name = String(reference.split(separator: "/").last ?? "")
                return resolve(schemas[name] ?? [:], in: schemas, depth: depth + 1)
            }
            return .object(fields.mapValues { resolve($0, in: schemas, depth: depth) })
        case .array(let items):
            return .array(items.map { resolve($0, in: schemas, depth: depth) })
        default:
            return schema
        }
    }

    /// A body with every documented property present (an open map gets one member), so that each of its places
    /// can be varied on its own.
    var sampleBody: JSONValue? {
        bodySchema.map { Self.sample(of: $0) }
    }

    /// Values that pass the modules' checks for properties whose schema alone does not say enough.
    static let knownSamples: [String: JSONValue] = [
        "currency": "EUR", "phone": "+4930123456", "locale": "en", "custom_fields": [:], "done": false,
        "time_zone": "Europe/Paris", "field": "email", "roles": ["user"],
        // A public address: a webhook's URL must resolve outside the installation's networks (no DNS here).
        "url": "https://198.51.100.7/hook",
    ]

    private static func sample(of schema: JSONValue) -> JSONValue {
        guard case .object(let fields) = schema else { return "sample" }
        if case .array(let choices)? = fields["oneOf"] ?? fields["anyOf"] {
            return choices.first { $0 != ["type": "null"] }.map { sample(of: $0) } ?? .null
        }
        if case .array(let values)? = fields["enum"], let first = values.first { return first }
        switch fields["type"] {
        case .string("string")?:
            switch fields["format"] {
            case .string("uuid")?: return .string(UUID.v7().uuidString.lowercased())
            case .string("email")?: return "someone@example.com"
            case .string("date-time")?: return "2030-01-02T03:04:05Z"
            case .string("date")?: return "2026-01-02"
            case .string("uri")?: return "https://example.com/x"
            default: return "sample"
            }
        case .string("integer")?: return .integer(1)
        case .string("number")?: return .number(1.5)
        case .string("boolean")?: return .bool(true)
        case .string("array")?: return .array([sample(of: fields["items"] ?? [:])])
        case .string("object")?:
            var members: [String: JSONValue] = [:]
            if case .object(let properties)? = fields["properties"] {
                for (name, property) in properties { members[name] = knownSamples[name] ?? sample(of: property) }
            }
            if case .object(let additional)? = fields["additionalProperties"], properties(fields).isEmpty {
                members["key"] = sample(of: .object(additional))
            }
            return .object(members)
        default:
            return "sample"
        }
    }

    private static func properties(_ fields: [String: JSONValue]) -> [String: JSONValue] {
        if case .object(let properties)? = fields["properties"] { return properties }
        return [:]
    }
}

extension JSONValue {
    /// Every place that holds a string, as the field path a problem names (`name`, `tags[0]`, `address.city`).
    var stringPlaces: [String] {
        var places: [String] = []
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .string: places.append(path)
            case .array(let items): for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
            case .object(let fields):
                for (key, item) in fields { walk(item, path.isEmpty ? key : "\(path).\(key)") }
            default: break
            }
        }
        walk(self, "")
        return places.sorted()
    }

    /// This value with the string at `place` (a path of `stringPlaces`) replaced by `text`.
    func replacingString(at place: String, with text: String) -> JSONValue {
        func replace(_ value: JSONValue, _ path: String) -> JSONValue {
            switch value {
            case .string: return path == place ? .string(text) : value
            case .array(let items):
                return .array(items.enumerated().map { replace($1, "\(path)[\($0)]") })
            case .object(let fields):
                return .object(
                    Dictionary(
                        uniqueKeysWithValues: fields.map { ($0, replace($1, path.isEmpty ? $0 : "\(path).\($0)")) }))
            default: return value
            }
        }
        return replace(self, "")
    }

    /// The value as JSON text.
    var jsonText: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }

    /// A flat object as `application/x-www-form-urlencoded` (strings as they are, other values as JSON).
    var formText: String {
        guard case .object(let fields) = self else { return "" }
        return FormBody.encode(
            fields.sorted { $0.key < $1.key }.map { name, value in
                if case .string(let text) = value { return (name, text) }
                return (name, value.jsonText)
            })
    }
}
