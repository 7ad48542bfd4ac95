import Foundation
import Hummingbird
import Kernel
import Logging
import NIOCore
import ServiceLifecycle

/// Who is making a request, once Identity (or the gateway) has verified their credentials.
package struct Principal: Sendable, Equatable {
    /// What sort of credential the principal authenticated with.
    package enum Kind: String, Sendable {
        case user
        case apiKey = "api_key"
        case service
    }

    /// The user id, API key id or OAuth client id.
    package let subject: String
    package let kind: Kind
    package let permissions: Set<Permission>
    /// Role names (users only); informational, checks go through `permissions`.
    package let roles: [String]
    /// The sign-in session (refresh-token family) the credential belongs to, for sign-out and session lists.
    package let sessionID: String?
    /// The OAuth client the token was issued to, when not the first-party web app.
    package let clientID: String?
    /// The token's scope values (`openid`, `profile`, permissions...); empty for API keys.
    package let scopes: Set<String>

    package init(
        subject: String, kind: Kind, permissions: Set<Permission>, roles: [String] = [], sessionID: String? = nil,
        clientID: String? = nil, scopes: Set<String> = []
    ) {
        self.scopes = scopes
        self.subject = subject
        self.kind = kind
        self.permissions = permissions
        self.roles = roles
        self.sessionID = sessionID
        self.clientID = clientID
    }
}

/// A verified credential: the tenant it belongs to and who holds it.
package struct Authentication: Sendable, Equatable {
    package let tenant: TenantID
    package let principal: Principal

    package init(tenant: TenantID, principal: Principal) {
        self.tenant = tenant
        self.principal = principal
    }
}

/// Turns a request's credentials into an `Authentication`. Identity provides one (JWTs and API keys); a process
/// without Identity (behind the gateway) would verify tokens against the JWKS.
package protocol RequestAuthenticator: Sendable {
    /// The credential of `request` verified, `nil` when it carries none, or a thrown 401 problem when it carries
    /// one that is invalid, expired, revoked or belongs to a suspended tenant.
    func authenticate(_ request: Request, context: AppRequestContext) async throws -> Authentication?

    /// The verified credential of an `Authorization` header when it can be decided from memory alone (a token
    /// already verified, its tenant's status and its roles' permissions cached); `nil` when it cannot, or when
    /// the credential is not valid (the asynchronous path then decides, and answers).
    func cachedAuthentication(authorization: String) -> Authentication?

    /// What must run beside the server for the verifier to stay current (the feed of revoked sessions); every
    /// process that verifies credentials runs them, whatever modules it serves.
    var services: [any Service] { get }
}

extension RequestAuthenticator {
    package func cachedAuthentication(authorization: String) -> Authentication? { nil }
    package var services: [any Service] { [] }
}

extension Problem {
    /// 401 for a credential that was presented but is not valid (RFC 6750 §3.1 `invalid_token`).
    package static func invalidToken(detail: String = "the access token is invalid, expired or revoked") -> Problem {
        Problem(
            status: .unauthorized, detail: detail,
            headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\", error_description=\"\(detail)\""])
    }
}

extension Request {
    /// The credential of an `Authorization: Bearer` header; `nil` without one or for other schemes (HTTP Basic
    /// client authentication at the OAuth endpoints is the route's to read).
    package var bearerToken: String? {
        headers[.authorization].flatMap(Self.bearerToken(authorization:))
    }

    /// The token of an `Authorization: Bearer` header value.
    /// (Byte-wise: Foundation's `trimmingCharacters` goes through `NSString` on Linux and cost more than the rest
    /// of a proxied request's edge checks together.)
    package static func bearerToken(authorization header: String) -> String? {
        func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }
        let value = header.drop(while: isBlank)
        guard let space = value.firstIndex(where: isBlank) else { return nil }
        let scheme = value[..<space]
        guard scheme.utf8.count == 6, scheme.lowercased() == "bearer" else { return nil }
        var token = value[space...].drop(while: isBlank)
        while let last = token.last, isBlank(last) { token = token.dropLast() }
        return token.isEmpty ? nil : String(token)
    }
}
