import Foundation
import Hummingbird
import Kernel

/// A request body type that names its JSON fields, so that fields it does not know are refused with 400
/// rather than silently ignored (a misspelt optional field would otherwise look accepted).
package protocol JSONRequestBody: Decodable {
    static var fieldNames: Set<String> { get }
}

/// Reading JSON request bodies with errors a client can act on.
package enum JSONBody {
    /// Collects the body (up to `context.maxUploadSize`, else 413) and decodes it; malformed JSON or a wrong
    /// shape gives 400 problem+json naming the field, text holding NUL 422 naming it.
    package static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: AppRequestContext)
        async throws -> T
    {
        if let contentType = request.headers[.contentType], !contentType.lowercased().contains("json") {
            throw Problem(status: .unsupportedMediaType, detail: "send the body as application/json")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else {
            throw Problem(status: .badRequest, detail: "a JSON request body is required")
        }
        // Every body is read once by Kernel's parser: malformed text (or bytes that are not UTF-8) is refused here,
        // an untyped body is the parsed value, and a strict body's field names are checked on it. (`JSONValue`'s
        // `Decodable` form, which this used to decode into first, guesses every value's kind by failed tries.)
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self),
            let value = try? JSONValue(parsing: text)
        else { throw Self.malformed }
        // Decided before any SQL, the same on both databases (API.md): text with NUL is a 422 naming the field.
        let unstorable = StorableText.issues(in: value)
        if !unstorable.isEmpty { throw Problem.validation(unstorable) }
        if let value = value as? T { return value }
        if let strict = T.self as? any JSONRequestBody.Type, case .object(let fields) = value {
            let unknown = Set(fields.keys).subtracting(strict.fieldNames).sorted()
            guard unknown.isEmpty else { throw unknownFields(unknown, of: "this resource") }
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw problem(for: error)
        }
    }

    /// The one rule for an operation that takes no body (API.md): none, an empty one, or `{}` is accepted; malformed
    /// JSON is a 400 like anywhere else, and any member is an unknown field (400). Every body-less `POST`, `PUT`,
    /// `PATCH` or `DELETE` runs it before its handler (`withoutBody` where the route is registered); the generated
    /// contract test sends each documented one a malformed body.
    package static func requireNone(_ request: Request, context: AppRequestContext) async throws {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return }
        if let contentType = request.headers[.contentType], !contentType.lowercased().contains("json") {
            throw Problem(status: .unsupportedMediaType, detail: "this operation takes no body")
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self),
            let value = try? JSONValue(parsing: text)
        else { throw Self.malformed }
        guard case .object(let fields) = value else {
            throw Problem(status: .badRequest, title: "Invalid request body", detail: "this operation takes no body")
        }
        guard fields.isEmpty else { throw unknownFields(fields.keys.sorted(), of: "this operation") }
    }

    /// The 400 for members a body may not have, each named.
    static func unknownFields(_ names: [String], of owner: String) -> Problem {
        Problem(
            status: .badRequest, title: "Invalid request body",
            detail: "unknown field(s) \(names.joined(separator: ", "))",
            errors: names.map { FieldIssue(field: $0, code: "unknown_field", message: "is not a field of \(owner)") })
    }

    /// `handler`'s answer for an operation that takes no body, once `requireNone` has accepted the request's.
    package static func withoutBody<T>(
        _ request: Request, _ context: AppRequestContext, _ handler: () async throws -> T
    ) async throws -> T {
        try await requireNone(request, context: context)
        return try await handler()
    }

    static let malformed = Problem(
        status: .badRequest, title: "Malformed JSON", detail: "the request body is not valid JSON")

    static func problem(for error: DecodingError) -> Problem {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return malformed
        case .dataCorrupted(let context):
            return Problem(
                status: .badRequest, title: "Invalid request body", detail: "invalid value",
                errors: [FieldIssue(field: path(context.codingPath), code: "invalid_value", message: "invalid value")])
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return Problem(
                status: .badRequest, title: "Invalid request body", detail: "\(field) is required",
                errors: [FieldIssue(field: field, code: "required", message: "is required")])
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return Problem(
                status: .badRequest, title: "Invalid request body", detail: "\(field) has the wrong type",
                errors: [FieldIssue(field: field, code: "invalid_type", message: "expected \(describe(type))")])
        @unknown default:
            return Problem(status: .badRequest, title: "Invalid request body")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "a different JSON type"
        }
    }
}
