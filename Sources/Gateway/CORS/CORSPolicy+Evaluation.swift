import Foundation
import HTTPTypes

/// Per-request CORS answers (Fetch standard, "HTTP CORS protocol").
///
/// Decisions: a refused preflight is answered `403` (the middleware renders a problem document) carrying no
/// `Access-Control-Allow-*` header, so the browser fails the CORS check and a developer sees why in the network
/// panel; an actual request from a refused origin is never refused by the gateway (the browser enforces CORS on
/// reads), it just gets no CORS headers. A policy with explicit origins sends `Vary: Origin` on every answer,
/// because the answer depends on the origin even when the request has none (so shared caches keep them apart);
/// a `*` policy always sends `Access-Control-Allow-Origin: *` and no `Vary`.
extension CORSPolicy {
    /// Request headers a browser never needs permission for (CORS-safelisted names). `content-type` is not
    /// among them: a browser only names it in a preflight when its value is not safelisted (for example
    /// `application/json`), and then the policy must list it.
    static let safelistedRequestHeaders: Set<String> = ["accept", "accept-language", "content-language"]

    /// Answers an OPTIONS request. It is a CORS preflight only if it has `Origin` and
    /// `Access-Control-Request-Method`; otherwise the route handles it as an ordinary request.
    package func preflight(
        method: HTTPRequest.Method,
        origin: String?,
        requestMethod: String?,
        requestHeaders: String?
    ) -> CORSPreflightResult {
        guard method == .options, let origin, let requestMethod else { return .notPreflight }
        var headers = HTTPFields()
        if !allowsAnyOrigin { headers.append(HTTPField(name: .vary, value: "Origin")) }
        guard allows(origin: origin) else { return .rejected(.originNotAllowed(origin), headers: headers) }
        guard let requested = HTTPRequest.Method(requestMethod), allows(method: requested) else {
            return .rejected(.methodNotAllowed(requestMethod), headers: headers)
        }
        for name in Self.headerNames(in: requestHeaders ?? "") where !allows(headerNamed: name) {
            return .rejected(.headerNotAllowed(name), headers: headers)
        }
        headers.append(HTTPField(name: .accessControlAllowOrigin, value: allowsAnyOrigin ? "*" : origin))
        if allowCredentials { headers.append(HTTPField(name: .accessControlAllowCredentials, value: "true")) }
        if !allowedMethods.isEmpty {
            let methods = allowedMethods.map(\.rawValue).joined(separator: ", ")
            headers.append(HTTPField(name: .accessControlAllowMethods, value: methods))
        }
        if !allowedHeaders.isEmpty {
            let names = allowedHeaders.joined(separator: ", ")
            headers.append(HTTPField(name: .accessControlAllowHeaders, value: names))
        }
        if let maxAge { headers.append(HTTPField(name: .accessControlMaxAge, value: String(maxAge))) }
        return .allowed(headers: headers)
    }

    /// Convenience for the middleware: reads the preflight fields from a request head.
    package func preflight(for request: HTTPRequest) -> CORSPreflightResult {
        preflight(
            method: request.method,
            origin: request.headerFields[.origin],
            requestMethod: request.headerFields[.accessControlRequestMethod],
            requestHeaders: request.headerFields[.accessControlRequestHeaders]
        )
    }

    /// Headers to add to an actual (non-preflight) response for a request with this `Origin` (nil if absent).
    package func responseHeaders(origin: String?) -> HTTPFields {
        var headers = HTTPFields()
        if allowsAnyOrigin {
            headers.append(HTTPField(name: .accessControlAllowOrigin, value: "*"))
        } else {
            headers.append(HTTPField(name: .vary, value: "Origin"))
            guard let origin, allows(origin: origin) else { return headers }
            headers.append(HTTPField(name: .accessControlAllowOrigin, value: origin))
            if allowCredentials { headers.append(HTTPField(name: .accessControlAllowCredentials, value: "true")) }
        }
        if !exposedHeaders.isEmpty {
            headers.append(HTTPField(name: .accessControlExposeHeaders, value: exposedHeaders.joined(separator: ", ")))
        }
        return headers
    }

    /// Whether the origin may read answers. Browsers send serialized origins in lower case, so the comparison
    /// is exact; `null` passes only when listed (or under `*`).
    package func allows(origin: String) -> Bool {
        allowsAnyOrigin || allowedOrigins.contains(origin)
    }

    /// Whether a preflight may ask for the method; methods compare case-sensitively, as in Fetch.
    package func allows(method: HTTPRequest.Method) -> Bool {
        [.get, .head, .post].contains(method) || allowedMethods.contains(method)
    }

    /// Whether a preflight may ask for the header; names compare case-insensitively.
    package func allows(headerNamed name: String) -> Bool {
        let lowered = name.lowercased()
        return Self.safelistedRequestHeaders.contains(lowered) || allowedHeaders.contains(lowered)
    }

    /// Splits `Access-Control-Request-Headers` (a comma-separated list) into names.
    static func headerNames(in list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
