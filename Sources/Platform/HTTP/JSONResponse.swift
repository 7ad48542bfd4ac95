import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore

/// JSON answers of every module: `snake_case` keys come from each type's `CodingKeys`; `no-store` unless the route
/// says otherwise, since most API answers are per-user data.
package enum JSONResponse {
    package static func make(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        json(try body(value), status: status, headers: headers)
    }

    /// `value` as the API's JSON text (for answers kept in a cache).
    package static func text(_ value: some Encodable) throws -> String {
        String(buffer: try body(value))
    }

    /// An answer of JSON already encoded (`text`).
    package static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(Data(text.utf8), status: status, headers: headers)
    }

    static func json(_ data: Data, status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        json(ByteBuffer(data: data), status: status, headers: headers)
    }

    static func json(_ body: ByteBuffer, status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// The JSON text of `value`: a value that writes its own (records, pages of them; `JSONWritable`) gives the same
    /// text as `JSONEncoder` would, without it.
    static func body(_ value: some Encodable) throws -> ByteBuffer {
        if let writable = value as? any JSONWritable { return ByteBuffer(bytes: try writable.jsonBytes()) }
        return ByteBuffer(data: try data(value))
    }

    static func data(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // API.md: timestamps are RFC 3339 UTC strings.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return try encoder.encode(value)
    }

    /// 201 with `Location`.
    package static func created(_ value: some Encodable, location: String) throws -> Response {
        try make(value, status: .created, headers: [.location: location])
    }

    /// 204.
    package static func noContent() -> Response {
        Response(status: .noContent)
    }
}

extension Request {
    /// A query parameter, or nil when absent.
    package func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }

    /// The list `limit`, or 400 problem+json when it is not 1...200.
    package func pageLimit() throws -> Int {
        guard let limit = PageLimit(query("limit")) else {
            throw Problem(
                status: .badRequest, detail: "limit must be a whole number from 1 to \(PageLimit.maximum)",
                errors: [FieldIssue(field: "limit", code: "out_of_range", message: "1 to \(PageLimit.maximum)")])
        }
        return limit.value
    }

    /// The decoded `cursor`, or 400 problem+json when it is malformed.
    package func cursorPosition() throws -> String? {
        guard let text = query("cursor") else { return nil }
        guard let cursor = Cursor(token: text) else {
            throw Problem(
                status: .badRequest, detail: "cursor is not one this server issued",
                errors: [FieldIssue(field: "cursor", code: "invalid_value", message: "use next_cursor as given")])
        }
        return cursor.position
    }
}

extension Request {
    /// The `cursor` parameter as an id to continue after; 400 when it is not one of ours.
    package func cursorID<Entity>(_ type: Entity.Type) throws -> ID<Entity>? {
        guard let position = try cursorPosition() else { return nil }
        guard let id = ID<Entity>(position) else {
            throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
        }
        return id
    }
}
