import Foundation
import HTTPTypes
import Hummingbird
import Kernel

/// A small builder for the OpenAPI 3.1 document each module serves at `/api/v1/<module>/openapi.json`. Enough of
/// the specification for our conventions: JSON or form bodies, problem+json errors, bearer or client
/// authentication, path and query parameters. Tests compare a module's document with its registered routes.
package enum OpenAPI {
    /// A JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses), as a value tree.
    package indirect enum Schema: Sendable {
        case string(format: String? = nil, description: String? = nil)
        case integer
        case number
        case boolean
        case enumeration([String])
        case array(Schema)
        case object([String: Schema], required: [String] = [])
        /// An object that may carry members beyond `properties` (a problem's extension members, RFC 9457 §3.2).
        case openObject([String: Schema], required: [String] = [])
        /// An object whose keys are free (a map).
        case map(Schema)
        case reference(String)
        case nullable(Schema)
        case any

        var value: JSONValue {
            switch self {
            case .string(let format, let description):
                var fields: [String: JSONValue] = ["type": "string"]
                if let format { fields["format"] = .string(format) }
                if let description { fields["description"] = .string(description) }
                return .object(fields)
            case .integer: return ["type": "integer"]
            case .number: return ["type": "number"]
            case .boolean: return ["type": "boolean"]
            case .enumeration(let values): return ["type": "string", "enum": .array(values.map(JSONValue.string))]
            case .array(let items): return ["type": "array", "items": items.value]
            case .object(let properties, let required):
                var fields: [String: JSONValue] = [
                    "type": "object", "properties": .object(properties.mapValues(\.value)),
                    "additionalProperties": false,
                ]
                if !required.isEmpty { fields["required"] = .array(required.sorted().map(JSONValue.string)) }
                return .object(fields)
            case .openObject(let properties, let required):
                var fields: [String: JSONValue] = [
                    "type": "object", "properties": .object(properties.mapValues(\.value)),
                ]
                if !required.isEmpty { fields["required"] = .array(required.sorted().map(JSONValue.string)) }
                return .object(fields)
            case .map(let values): return ["type": "object", "additionalProperties": values.value]
            case .reference(let name): return ["$ref": .string("#/components/schemas/\(name)")]
            case .nullable(let schema): return ["oneOf": [schema.value, ["type": "null"]]]
            case .any: return [:]
            }
        }
    }

    /// How an operation authenticates.
    package enum Security: Sendable {
        case none
        /// A bearer access token or API key; `permission` is what the route checks, if anything.
        case bearer(Permission?)
        /// OAuth client authentication (HTTP Basic, form fields, or none for public clients).
        case client
    }

    package struct Parameter: Sendable {
        let name: String
        let location: String
        let schema: Schema
        let required: Bool
        let description: String

        package static func path(_ name: String, _ description: String) -> Parameter {
            Parameter(name: name, location: "path", schema: .string(), required: true, description: description)
        }
        package static func query(_ name: String, _ schema: Schema = .string(), _ description: String) -> Parameter {
            Parameter(name: name, location: "query", schema: schema, required: false, description: description)
        }
        package static func header(_ name: String, _ description: String) -> Parameter {
            Parameter(name: name, location: "header", schema: .string(), required: false, description: description)
        }
        /// `limit` and `cursor` of every list (API.md).
        package static let paging: [Parameter] = [
            .query("limit", .integer, "page size, 1 to 200 (default 50)"),
            .query("cursor", .string(), "the next_cursor of the previous page"),
        ]
    }

    /// How an operation answers errors.
    package enum ErrorFormat: Sendable {
        /// RFC 9457 problem+json (every API route).
        case problem
        /// RFC 6749 §5.2 `{"error", "error_description"}` as `application/json` (the token endpoint).
        case oauth
        /// An HTML page (routes a browser is sent to: the authorization endpoint, a provider's callback).
        case html
    }

    package struct Operation: Sendable {
        package let method: HTTPRequest.Method
        package let path: String
        let summary: String
        let security: Security
        let parameters: [Parameter]
        let body: Schema?
        let bodyType: String
        /// Success status, its description and schema (`nil`: no body).
        let success: (status: Int, description: String, schema: Schema?, contentType: String)
        /// Further problem answers the operation gives (404, 409, 412, ...), by status.
        let problems: [Int: String]
        /// Another success status with the same body (a create that merged into an existing record: 200).
        let alsoSuccess: Int?
        let errorFormat: ErrorFormat

        package init(
            _ method: HTTPRequest.Method, _ path: String, _ summary: String, security: Security,
            parameters: [Parameter] = [], body: Schema? = nil, bodyType: String = "application/json",
            success: Int = 200, _ description: String = "OK", schema: Schema? = nil,
            contentType: String = "application/json", problems: [Int: String] = [:], alsoSuccess: Int? = nil,
            errorFormat: ErrorFormat = .problem
        ) {
            self.errorFormat = errorFormat
            self.problems = problems
            self.alsoSuccess = alsoSuccess
            self.method = method
            self.path = path
            self.summary = summary
            self.security = security
            self.parameters = parameters
            self.body = body
            self.bodyType = bodyType
            self.success = (success, description, schema, contentType)
        }

        var value: JSONValue {
            var responses: [String: JSONValue] = [:]
            var ok: [String: JSONValue] = ["description": .string(success.description)]
            if let schema = success.schema {
                ok["content"] = .object([success.contentType: ["schema": schema.value]])
            }
            responses[String(success.status)] = .object(ok)
            if let alsoSuccess { responses[String(alsoSuccess)] = .object(ok) }
            // Errors the platform answers before the operation's own code (a bad credential, a body over the limit)
            // are problem+json whatever the operation's own format, so other formats list both.
            let problemJSON: JSONValue = ["schema": Schema.reference("Problem").value]
            let problem: JSONValue
            switch errorFormat {
            case .problem:
                problem = ["content": ["application/problem+json": problemJSON]]
            case .oauth:
                problem = [
                    "content": [
                        "application/json": ["schema": Schema.reference("OAuthError").value],
                        "application/problem+json": problemJSON,
                    ]
                ]
            case .html:
                problem = [
                    "content": [
                        "text/html": ["schema": Schema.string().value], "application/problem+json": problemJSON,
                    ]
                ]
            }
            func problemResponse(_ description: String) -> JSONValue {
                guard case .object(var fields) = problem else { return problem }
                fields["description"] = .string(description)
                return .object(fields)
            }
            // What the platform answers for any operation of this shape, whatever the module: a malformed request
            // (a write refuses a malformed body even when it takes none), nothing at an `{id}`, a body of another
            // type or size, a filter out of range.
            let writes: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]
            if body != nil || !parameters.isEmpty || writes.contains(method) {
                responses["400"] = problemResponse("Malformed request")
            }
            if body != nil || writes.contains(method) {
                responses["413"] = problemResponse("The body is larger than this server accepts")
                responses["415"] = problemResponse("The body is not of the type this operation takes")
            }
            if body != nil || parameters.contains(where: { $0.location == "query" }) {
                responses["422"] = problemResponse("Validation failed")
            }
            if path.contains("{") { responses["404"] = problemResponse("Nothing of yours at this path") }
            for (status, description) in problems { responses[String(status)] = problemResponse(description) }
            var fields: [String: JSONValue] = [
                "summary": .string(summary), "operationId": .string(operationID), "responses": .object(responses),
            ]
            switch security {
            case .none:
                fields["security"] = []
                // Credentials are still verified when sent: invalid ones are refused.
                if responses["401"] == nil { responses["401"] = problemResponse("Invalid credentials were sent") }
                fields["responses"] = .object(responses)
            case .bearer(let permission):
                fields["security"] = [["bearer": []]]
                responses["401"] = problemResponse("Missing or invalid credentials")
                responses["403"] = problemResponse(permission.map { "Needs \($0)" } ?? "Not permitted")
                if let permission { fields["x-permission"] = .string(permission.description) }
                fields["responses"] = .object(responses)
            case .client:
                fields["security"] = [["clientBasic": []], [:]]
                responses["401"] = problemResponse("Client authentication failed")
                fields["responses"] = .object(responses)
            }
            if !parameters.isEmpty {
                fields["parameters"] = .array(
                    parameters.map { parameter in
                        [
                            "name": .string(parameter.name), "in": .string(parameter.location),
                            "required": .bool(parameter.required), "description": .string(parameter.description),
                            "schema": parameter.schema.value,
                        ]
                    })
            }
            if let body {
                fields["requestBody"] = ["required": true, "content": .object([bodyType: ["schema": body.value]])]
            }
            return .object(fields)
        }

        var operationID: String {
            let words = path.split(whereSeparator: { "/{}.-_".contains($0) }).filter { !["api", "v1"].contains($0) }
            return method.rawValue.lowercased() + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
    }

    /// The whole document.
    package static func document(
        title: String, version: String, description: String, operations: [Operation], schemas: [String: Schema]
    ) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for operation in operations {
            var item: [String: JSONValue] = [:]
            if case .object(let existing) = paths[operation.path] { item = existing }
            item[operation.method.rawValue.lowercased()] = operation.value
            paths[operation.path] = .object(item)
        }
        var allSchemas = schemas
        allSchemas["Problem"] = .openObject(
            [
                "type": .string(), "title": .string(), "status": .integer, "detail": .string(),
                "instance": .string(), "request_id": .string(),
                "errors": .array(.object(["field": .string(), "code": .string(), "message": .string()])),
            ], required: ["type", "title", "status"])
        allSchemas["OAuthError"] = .openObject(
            ["error": .string(), "error_description": .string(), "error_uri": .string()], required: ["error"])
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(title), "version": .string(version), "description": .string(description)],
            "paths": .object(paths),
            "components": [
                "schemas": .object(allSchemas.mapValues(\.value)),
                "securitySchemes": [
                    "bearer": [
                        "type": "http", "scheme": "bearer",
                        "description": "An access token (ES256 JWT) or an API key (inop_...)",
                    ],
                    "clientBasic": ["type": "http", "scheme": "basic", "description": "OAuth client id and secret"],
                ],
            ],
        ]
    }
}
