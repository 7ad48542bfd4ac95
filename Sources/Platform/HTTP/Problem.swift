import Foundation
import HTTPTypes
import Hummingbird
import Kernel

/// An RFC 9457 problem: every error answer of every module is one of these, as `application/problem+json`.
package struct Problem: Error, Sendable {
    package var status: HTTPResponse.Status
    /// A URI reference identifying the problem type; `about:blank` means "see the status code".
    package var type: String
    package var title: String
    package var detail: String?
    package var errors: [FieldIssue]?
    /// Extra response headers (`Allow` for 405, `Retry-After` for 429, `WWW-Authenticate` for 401).
    package var headers: HTTPFields
    /// RFC 9457 extension members (`existing_id` of a duplicate); they never replace the standard members.
    package var extensions: [String: JSONValue] = [:]

    package init(
        status: HTTPResponse.Status, type: String = "about:blank", title: String? = nil, detail: String? = nil,
        errors: [FieldIssue]? = nil, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    package static func unauthorized(detail: String = "authentication is required") -> Problem {
        Problem(status: .unauthorized, detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    package static func validation(_ issues: [FieldIssue]) -> Problem {
        Problem(
            status: .unprocessableContent, type: "/problems/validation", title: "Validation failed",
            detail: "\(issues.count) field(s) failed validation", errors: issues)
    }

    package static func notFound(detail: String? = nil) -> Problem {
        Problem(status: .notFound, detail: detail)
    }

    /// The JSON body, with the request's path as `instance` and its id as `request_id`.
    package func body(instance: String, requestID: String) -> ByteBuffer {
        let payload = ProblemBody(
            type: type, title: title, status: Int(status.code), detail: detail, instance: instance,
            requestID: requestID, errors: errors, extensions: extensions)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(payload)) ?? Data("{\"status\":\(status.code)}".utf8)
        return ByteBuffer(bytes: data)
    }

    /// The complete response.
    package func response(instance: String, requestID: String) -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return Response(
            status: status, headers: fields, body: .init(byteBuffer: body(instance: instance, requestID: requestID)))
    }
}

/// The wire shape of a problem (RFC 9457 members plus `request_id` and `errors`).
private struct ProblemBody: Encodable {
    let type: String
    let title: String
    let status: Int
    let detail: String?
    let instance: String
    let requestID: String
    let errors: [FieldIssue]?
    let extensions: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, errors
        case requestID = "request_id"
    }

    private struct ExtensionKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ExtensionKey.self)
        func key(_ name: CodingKeys) -> ExtensionKey { ExtensionKey(stringValue: name.stringValue) }
        try container.encode(type, forKey: key(.type))
        try container.encode(title, forKey: key(.title))
        try container.encode(status, forKey: key(.status))
        try container.encodeIfPresent(detail, forKey: key(.detail))
        try container.encode(instance, forKey: key(.instance))
        try container.encode(requestID, forKey: key(.requestID))
        try container.encodeIfPresent(errors, forKey: key(.errors))
        let standard = Set(["type", "title", "status", "detail", "instance", "request_id", "errors"])
        for (name, value) in extensions where !standard.contains(name) {
            try container.encode(value, forKey: ExtensionKey(stringValue: name))
        }
    }
}
