import Foundation
import Kernel
import Platform

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// GitHub's OAuth2 (not OpenID Connect): the code is exchanged for an access token, and the identity comes from
/// the REST API (`/user`, and `/user/emails` for the verified primary address). Claims are shaped like an ID
/// token's (`sub`, `email`, `email_verified`, `name`) plus `login`, so role rules can match on the GitHub login.
extension UpstreamProvider {
    func githubAuthorizationEndpoint(_ provider: IdentityProvider) -> String {
        let base = provider.issuer.hasSuffix("/") ? String(provider.issuer.dropLast()) : provider.issuer
        return base + "/login/oauth/authorize"
    }

    func githubClaims(code: String, verifier: String, redirectURI: String, provider: IdentityProvider) async throws
        -> [String: JSONValue]
    {
        let base = provider.issuer.hasSuffix("/") ? String(provider.issuer.dropLast()) : provider.issuer
        guard let tokenURL = URL(string: base + "/login/oauth/access_token"),
            let userURL = URL(string: provider.githubAPI + "/user"),
            let emailsURL = URL(string: provider.githubAPI + "/user/emails")
        else { throw Failure.badMetadata("GitHub address") }
        var request = URLRequest(url: tokenURL)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = Data(
            FormBody.encode([
                ("client_id", provider.clientID), ("client_secret", provider.clientSecret ?? ""), ("code", code),
                ("redirect_uri", redirectURI), ("code_verifier", verifier),
            ]).utf8)
        let (tokenData, tokenResponse) = try await session.data(for: request)
        guard (tokenResponse as? HTTPURLResponse)?.statusCode == 200,
            let token = try? JSONDecoder().decode([String: JSONValue].self, from: tokenData),
            case .string(let accessToken)? = token["access_token"]
        else { throw Failure.tokenRefused("GitHub did not issue an access token") }
        let user = try await githubGet(userURL, token: accessToken, as: [String: JSONValue].self)
        let emails = try await githubGet(emailsURL, token: accessToken, as: [[String: JSONValue]].self)
        let primary = emails.first { $0["primary"] == .bool(true) && $0["verified"] == .bool(true) }
        var claims: [String: JSONValue] = [:]
        switch user["id"] {
        case .integer(let id): claims["sub"] = .string(String(id))
        case .string(let id): claims["sub"] = .string(id)
        default: throw Failure.invalidIDToken("GitHub user without id")
        }
        claims["login"] = user["login"]
        claims["name"] = user["name"] ?? user["login"]
        if case .string(let email)? = primary?["email"] {
            claims["email"] = .string(email)
            claims["email_verified"] = .bool(true)
        }
        return claims
    }

    private func githubGet<T: Decodable>(_ url: URL, token: String, as type: T.Type) async throws -> T {
        var request = URLRequest(url: url)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/vnd.github+json", forHTTPHeaderField: "Accept")
        request.setValue("2022-11-28", forHTTPHeaderField: "X-GitHub-Api-Version")
        let (data, response) = try await session.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
            let value = try? JSONDecoder().decode(T.self, from: data)
        else { throw Failure.unreachable("\(url) did not answer as GitHub does") }
        return value
    }
}
