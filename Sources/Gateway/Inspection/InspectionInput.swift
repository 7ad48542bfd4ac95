import HTTPTypes
import Kernel

/// The parts of a request the inspection engine reads. Built per request by the gateway middleware.
package struct InspectionInput: Sendable {
    package var method: HTTPRequest.Method
    /// The path as sent, still percent-encoded, without the query.
    package var path: String
    /// The raw query string without the leading `?`, if any.
    package var query: String?
    package var headers: HTTPFields
    /// The parsed JSON body, when the request has one and the middleware parsed it.
    package var body: JSONValue?

    package init(
        method: HTTPRequest.Method = .get,
        path: String,
        query: String? = nil,
        headers: HTTPFields = [:],
        body: JSONValue? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Reads method, path, query and headers from a request head (its path field carries the query).
    package init(head: HTTPRequest, body: JSONValue? = nil) {
        let target = head.path ?? "/"
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.init(
                method: head.method,
                path: String(target[..<mark]),
                query: String(target[target.index(after: mark)...]),
                headers: head.headerFields,
                body: body
            )
        } else {
            self.init(method: head.method, path: target, headers: head.headerFields, body: body)
        }
    }
}
