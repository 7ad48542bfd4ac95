import Foundation
import Kernel

/// An application allowed to obtain tokens for a tenant's users (authorization code + PKCE) or for itself
/// (client credentials). Public clients (browser and mobile apps) have no secret; confidential ones do.
package struct OAuthClient: Sendable, Equatable, Encodable {
    package enum ClientType: String, Sendable, Codable {
        case `public`
        case confidential
    }

    package let clientID: String
    package var name: String
    package let type: ClientType
    package var redirectURIs: [String]
    /// Scopes the client may ask for: OpenID scopes and permissions (`crm.leads:read`).
    package var allowedScopes: [String]
    package var grantTypes: [String]
    package let createdBy: String?
    package let createdAt: Date
    package var revokedAt: Date?

    /// Inopsio's own web apps: a public client of every tenant, returning to `/auth/callback` on this server.
    static let webClientID = "inopsio-web"

    static func firstPartyWeb(issuer: String) -> OAuthClient {
        OAuthClient(
            clientID: webClientID, name: "Inopsio", type: .public, redirectURIs: ["\(issuer)/auth/callback"],
            allowedScopes: ["openid", "profile", "email", "offline_access"],
            grantTypes: ["authorization_code", "refresh_token"], createdBy: nil,
            createdAt: Date(timeIntervalSince1970: 0),
            revokedAt: nil)
    }

    static let openIDScopes: Set<String> = ["openid", "profile", "email", "offline_access"]
    static let grantTypesSupported: Set<String> = ["authorization_code", "refresh_token", "client_credentials"]

    enum CodingKeys: String, CodingKey {
        case name
        case clientID = "client_id"
        case type = "client_type"
        case redirectURIs = "redirect_uris"
        case allowedScopes = "allowed_scopes"
        case grantTypes = "grant_types"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    /// Written out so absent values are explicit `null`s (synthesized coding would omit them) and times are RFC 3339.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(redirectURIs, forKey: .redirectURIs)
        try container.encode(allowedScopes, forKey: .allowedScopes)
        try container.encode(grantTypes, forKey: .grantTypes)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(revokedAt.map(RFC3339.string(from:)), forKey: .revokedAt)
    }

    /// The requested scopes this client may have; `nil` if any is not allowed.
    func grantable(_ requested: [String]) -> [String]? {
        let allowed = Set(allowedScopes)
        return requested.allSatisfy(allowed.contains) ? requested : nil
    }

    /// Validation of a client definition (RFC 6749 §3.1.2: absolute redirect URIs without fragments; plain HTTP
    /// only for loopback, as RFC 8252 allows for native apps).
    static func issues(
        name: String, type: ClientType, redirectURIs: [String], scopes: [String], grantTypes: [String],
        permissionCatalog: [Permission]
    ) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 100 {
            issues.append(FieldIssue(field: "name", code: "invalid_length", message: "1 to 100 characters"))
        }
        for grant in grantTypes where !grantTypesSupported.contains(grant) {
            issues.append(
                FieldIssue(field: "grant_types", code: "invalid_value", message: "unsupported grant \(grant)"))
        }
        if grantTypes.isEmpty {
            issues.append(FieldIssue(field: "grant_types", code: "required", message: "name at least one grant type"))
        }
        if type == .public && grantTypes.contains("client_credentials") {
            issues.append(
                FieldIssue(
                    field: "grant_types", code: "invalid_value", message: "public clients cannot use client_credentials"
                ))
        }
        if grantTypes.contains("authorization_code") && redirectURIs.isEmpty {
            issues.append(
                FieldIssue(field: "redirect_uris", code: "required", message: "authorization_code needs a redirect URI")
            )
        }
        for uri in redirectURIs where !isAcceptableRedirect(uri) {
            issues.append(
                FieldIssue(
                    field: "redirect_uris", code: "invalid_value",
                    message: "\(uri): an absolute https URI (http only for loopback) without a fragment"))
        }
        for scope in scopes where !openIDScopes.contains(scope) {
            if Permission(scope).map({ permissionCatalog.contains($0) }) != true {
                issues.append(FieldIssue(field: "allowed_scopes", code: "invalid_value", message: "no scope \(scope)"))
            }
        }
        return issues
    }

    static func isAcceptableRedirect(_ uri: String) -> Bool {
        guard let components = URLComponents(string: uri), components.fragment == nil,
            let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else { return false }
        if scheme == "https" { return true }
        return scheme == "http" && ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host)
    }
}
