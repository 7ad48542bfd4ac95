import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1

/// The security headers every response carries, and its Content-Security-Policy: pages get one allowing only
/// this origin plus the per-request nonce (no `unsafe-inline`, no `unsafe-eval`); everything else gets
/// `default-src 'none'`.
///
/// These headers belong to the platform: handlers do not set them. They are appended as fields built once
/// (validating a header value on every response showed up in profiles), except the nonce-bearing page policy.
package enum SecurityHeaders {
    static let common: [HTTPField] = [
        HTTPField(name: .xContentTypeOptions, value: "nosniff"),
        HTTPField(name: .xFrameOptions, value: "DENY"),
        HTTPField(name: .referrerPolicy, value: "strict-origin-when-cross-origin"),
    ]
    static let nonPagePolicy = HTTPField(
        name: .contentSecurityPolicy, value: "default-src 'none'; frame-ancestors 'none'")
    static let strictTransportSecurity = HTTPField(
        name: .strictTransportSecurity, value: "max-age=63072000; includeSubDomains")

    static func apply(to response: inout Response, isPage: Bool, nonce: String, tls: Bool) {
        if response.headers[.contentSecurityPolicy] != nil {
            // A page that needs a wider policy (the OAuth sign-in form posts, then redirects to the client) sets its
            // own, built with `pagePolicy(nonce:formActions:)`.
        } else if isPage && response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers.append(HTTPField(name: .contentSecurityPolicy, value: pagePolicy(nonce: nonce)))
        } else if response.headers[.contentSecurityPolicy] == nil {
            response.headers.append(nonPagePolicy)
        }
        // A response proxied from a module behind the gateway already carries them.
        for field in common where response.headers[field.name] == nil { response.headers.append(field) }
        if tls && response.headers[.strictTransportSecurity] == nil { response.headers.append(strictTransportSecurity) }
    }

    /// The same for an HTTP/1 response the gateway's fast path proxies.
    package static func apply(to headers: inout HTTPHeaders, isPage: Bool, tls: Bool) {
        if !headers.contains(name: "content-security-policy") {
            if isPage, headers.first(name: "content-type")?.hasPrefix("text/html") == true {
                headers.add(name: "Content-Security-Policy", value: pagePolicy(nonce: makeNonce()))
            } else {
                headers.add(name: http1NonPagePolicy.name, value: http1NonPagePolicy.value)
            }
        }
        for field in http1Common where !headers.contains(name: field.name) {
            headers.add(name: field.name, value: field.value)
        }
        if tls && !headers.contains(name: http1StrictTransportSecurity.name) {
            headers.add(name: http1StrictTransportSecurity.name, value: http1StrictTransportSecurity.value)
        }
    }

    // The same fields as strings, made once (an `HTTPField`'s value is decoded on every read).
    private static let http1Common = common.map { (name: $0.name.rawName, value: $0.value) }
    private static let http1NonPagePolicy = (name: nonPagePolicy.name.rawName, value: nonPagePolicy.value)
    private static let http1StrictTransportSecurity = (
        name: strictTransportSecurity.name.rawName, value: strictTransportSecurity.value
    )

    package static func mayBePage(_ path: String) -> Bool {
        !(path.hasPrefix("/api/") || path.hasPrefix("/assets/") || path == "/health" || path == "/ready"
            || path == "/metrics")
    }

    /// The policy for HTML pages. `formActions` adds origins a form may submit or be redirected to.
    package static func pagePolicy(nonce: String, formActions: [String] = []) -> String {
        let formAction = (["'self'"] + formActions).joined(separator: " ")
        return "default-src 'self'; script-src 'self' 'nonce-\(nonce)'; style-src 'self' 'nonce-\(nonce)'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            + "form-action \(formAction); frame-ancestors 'none'"
    }

    /// 128 random bits, base64.
    static func makeNonce() -> String {
        // Two 64-bit draws (one system call each), not sixteen byte-sized ones.
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let value = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        return Data(bytes).base64EncodedString()
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    package static let xRequestID = HTTPField.Name("X-Request-ID")!
}
