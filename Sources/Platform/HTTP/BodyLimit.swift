import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses bodies over the configured size with 413: at once when `Content-Length` says so, and for chunked
/// bodies as soon as the bytes read pass the limit, whoever reads them.
package enum BodyLimit {
    /// Throws 413 for a declared length over `limit`; wraps a chunked body so reading past `limit` throws 413.
    package static func apply(to request: inout Request, limit: Int) throws {
        if let length = request.headers[.contentLength].flatMap(Int.init) {
            if length > limit {
                throw Problem(status: .contentTooLarge, detail: "the request body exceeds the limit of \(limit) bytes")
            }
        } else if request.headers[.transferEncoding] != nil {
            request.body = RequestBody(asyncSequence: SizeLimitedBody(base: request.body, limit: limit))
        }
    }
}
