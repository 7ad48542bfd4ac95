import Foundation
import HTTPTypes
import Hummingbird

/// The security headers every response carries, and its Content-Security-Policy: pages get one allowing only
/// this origin plus the per-request nonce (no `unsafe-inline`, no `unsafe-eval`); everything else gets
/// `default-src 'none'`.
package enum SecurityHeaders {
    static func apply(to response: inout Response, isPage: Bool, nonce: String, tls: Bool) {
        let html = isPage && response.headers[.contentType]?.hasPrefix("text/html") == true
        response.headers[.contentSecurityPolicy] =
            html ? pagePolicy(nonce: nonce) : "default-src 'none'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "strict-origin-when-cross-origin"
        if tls { response.headers[.strictTransportSecurity] = "max-age=63072000; includeSubDomains" }
    }

    static func mayBePage(_ path: String) -> Bool {
        !(path.hasPrefix("/api/") || path.hasPrefix("/assets/") || path == "/health" || path == "/ready"
            || path == "/metrics")
    }

    /// The policy for HTML pages.
    package static func pagePolicy(nonce: String) -> String {
        "default-src 'self'; script-src 'self' 'nonce-\(nonce)'; style-src 'self' 'nonce-\(nonce)'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'"
    }

    /// 128 random bits, base64.
    static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    package static let xRequestID = HTTPField.Name("X-Request-ID")!
}
