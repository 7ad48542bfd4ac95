import Foundation
import Kernel
import Platform

/// The claims of an Inopsio access token (RFC 9068 JWT profile plus `tenant_id`, `roles` and `sid`).
package struct AccessTokenClaims: Codable, Sendable, Equatable {
    package var iss: String
    package var sub: String
    package var aud: RegisteredClaims.Audience
    package var exp: Int64
    package var iat: Int64
    package var jti: String
    package var tenantID: String
    package var roles: [String]
    package var scope: String
    /// The session (refresh-token family) this token was issued in; absent for client-credentials tokens.
    package var sid: String?
    package var clientID: String

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, jti, roles, scope, sid
        case tenantID = "tenant_id"
        case clientID = "client_id"
    }

    var registered: RegisteredClaims {
        RegisteredClaims(iss: iss, sub: sub, aud: aud, exp: exp, iat: iat, jti: jti)
    }

    /// Scope values that are permissions (`crm.leads:read`) narrow what the roles allow; OpenID scopes do not.
    var permissionScopes: Set<Permission>? {
        let scoped = scope.split(separator: " ").compactMap { Permission(String($0)) }
        return scoped.isEmpty ? nil : Set(scoped)
    }
}

/// The JSON answer of sign-in and refresh (RFC 6749 §5.1 field names).
package struct TokenResponse: Codable, Sendable, Equatable {
    package let accessToken: String
    package let refreshToken: String?
    package let tokenType: String
    package let expiresIn: Int
    package let scope: String
    package let idToken: String?

    enum CodingKeys: String, CodingKey {
        case scope
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case idToken = "id_token"
    }
}
