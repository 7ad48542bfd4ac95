import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// An OAuth 2.0 error (RFC 6749 §5.2): the token, revocation and introspection endpoints answer
/// `{"error": ..., "error_description": ...}` as OAuth client libraries expect, not problem+json.
struct OAuthError: Error, Sendable, Equatable {
    let code: String
    let description: String
    let status: HTTPResponse.Status

    static func invalidRequest(_ description: String) -> OAuthError {
        OAuthError(code: "invalid_request", description: description, status: .badRequest)
    }
    static func invalidClient(_ description: String = "client authentication failed") -> OAuthError {
        OAuthError(code: "invalid_client", description: description, status: .unauthorized)
    }
    static func invalidGrant(_ description: String) -> OAuthError {
        OAuthError(code: "invalid_grant", description: description, status: .badRequest)
    }
    static func unauthorizedClient(_ description: String) -> OAuthError {
        OAuthError(code: "unauthorized_client", description: description, status: .badRequest)
    }
    static func unsupportedGrantType(_ grant: String) -> OAuthError {
        OAuthError(
            code: "unsupported_grant_type", description: "grant_type \(grant) is not supported", status: .badRequest)
    }
    static func invalidScope(_ description: String) -> OAuthError {
        OAuthError(code: "invalid_scope", description: description, status: .badRequest)
    }

    func response() throws -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Basic realm=\"inopsio\"" }
        return try JSONResponse.make(
            ["error": code, "error_description": description], status: status, headers: headers)
    }
}
