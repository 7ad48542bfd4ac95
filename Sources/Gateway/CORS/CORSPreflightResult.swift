import HTTPTypes

/// The answer to a possible CORS preflight.
package enum CORSPreflightResult: Sendable, Hashable {
    /// Not a preflight: let the route handle the request.
    case notPreflight
    /// Answer `204 No Content` with these headers and no body.
    case allowed(headers: HTTPFields)
    /// Answer `403` (a problem document whose detail may use the reason) with these headers, which carry no
    /// `Access-Control-Allow-*`, so the browser refuses the actual request.
    case rejected(CORSRejection, headers: HTTPFields)

    /// The status to answer with, or nil when the request is not a preflight.
    package var status: HTTPResponse.Status? {
        switch self {
        case .notPreflight: nil
        case .allowed: .noContent
        case .rejected: .forbidden
        }
    }

    /// The headers to answer with (empty when not a preflight).
    package var headers: HTTPFields {
        switch self {
        case .notPreflight: [:]
        case .allowed(let headers), .rejected(_, let headers): headers
        }
    }
}

/// Why a preflight was refused; the text only repeats what the client sent, so it is safe to show.
package enum CORSRejection: Sendable, Hashable, CustomStringConvertible {
    case originNotAllowed(String)
    case methodNotAllowed(String)
    case headerNotAllowed(String)

    package var description: String {
        switch self {
        case .originNotAllowed(let origin): "Origin \(origin) is not allowed to call this route."
        case .methodNotAllowed(let method): "Method \(method) is not allowed for cross-origin calls to this route."
        case .headerNotAllowed(let name): "Request header \(name) is not allowed for cross-origin calls to this route."
        }
    }
}
