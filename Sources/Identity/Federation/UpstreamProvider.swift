import Crypto
import CryptoExtras
import Foundation
import Kernel
import Platform

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Talks to an external OpenID Connect provider: discovery, the code exchange and ID token verification (RS256
/// and ES256, the algorithms Keycloak, Entra ID and Google sign with). Uses Foundation's URLSession (libcurl on
/// Linux) with short timeouts; these are a few calls per sign-in, not a hot path.
struct UpstreamProvider: Sendable {
    struct Metadata: Decodable, Sendable {
        let issuer: String
        let authorizationEndpoint: String
        let tokenEndpoint: String
        let jwksURI: String

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
        }
    }

    enum Failure: Error, Equatable {
        case unreachable(String)
        case badMetadata(String)
        case tokenRefused(String)
        case invalidIDToken(String)
    }

    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.timeoutIntervalForResource = 20
        return URLSession(configuration: configuration)
    }()

    /// The provider's discovery document; its `issuer` must be the configured one (OIDC Discovery §4.3).
    func metadata(issuer: String) async throws -> Metadata {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let url = URL(string: base + "/.well-known/openid-configuration") else {
            throw Failure.badMetadata("issuer is not a URL")
        }
        let data = try await get(url)
        guard let metadata = try? JSONDecoder().decode(Metadata.self, from: data) else {
            throw Failure.badMetadata("discovery document is not valid")
        }
        guard metadata.issuer == issuer else { throw Failure.badMetadata("discovery names issuer \(metadata.issuer)") }
        return metadata
    }

    /// Exchanges the code (with the PKCE verifier) and returns the raw ID token.
    func exchange(
        code: String, verifier: String, redirectURI: String, provider: IdentityProvider, metadata: Metadata
    ) async throws -> String {
        guard let url = URL(string: metadata.tokenEndpoint) else { throw Failure.badMetadata("token endpoint") }
        var fields = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("code_verifier", verifier), ("client_id", provider.clientID),
        ]
        if let secret = provider.clientSecret { fields.append(("client_secret", secret)) }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = Data(FormBody.encode(fields).utf8)
        let (data, response) = try await send(request)
        guard response.statusCode == 200,
            let object = try? JSONDecoder().decode([String: JSONValue].self, from: data),
            case .string(let idToken)? = object["id_token"]
        else {
            throw Failure.tokenRefused("token endpoint answered \(response.statusCode)")
        }
        return idToken
    }

    /// Verifies the ID token's signature against the provider's JWKS and its claims (iss, aud, exp, nonce).
    func verify(idToken: String, provider: IdentityProvider, metadata: Metadata, nonce: String, now: Date)
        async throws -> [String: JSONValue]
    {
        guard let jwksURL = URL(string: metadata.jwksURI) else { throw Failure.badMetadata("jwks_uri") }
        let keys = try JSONDecoder().decode(VerificationKey.Set.self, from: try await get(jwksURL)).keys
        guard let (_, payload) = VerificationKey.verify(idToken, keys: keys) else {
            throw Failure.invalidIDToken("signature does not verify with the provider's keys")
        }
        guard let claims = try? JSONDecoder().decode([String: JSONValue].self, from: payload) else {
            throw Failure.invalidIDToken("claims are not JSON")
        }
        guard claims["iss"] == .string(provider.issuer) else { throw Failure.invalidIDToken("wrong issuer") }
        switch claims["aud"] {
        case .string(let audience) where audience == provider.clientID: break
        case .array(let audiences) where audiences.contains(.string(provider.clientID)): break
        default: throw Failure.invalidIDToken("not issued to this client")
        }
        guard case .integer(let exp)? = claims["exp"], Double(exp) + 60 > now.timeIntervalSince1970 else {
            throw Failure.invalidIDToken("expired")
        }
        guard claims["nonce"] == .string(nonce) else { throw Failure.invalidIDToken("nonce does not match") }
        guard case .string? = claims["sub"] else { throw Failure.invalidIDToken("no subject") }
        return claims
    }

    private func get(_ url: URL) async throws -> Data {
        var request = URLRequest(url: url)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (data, response) = try await send(request)
        guard response.statusCode == 200 else { throw Failure.unreachable("\(url) answered \(response.statusCode)") }
        return data
    }

    private func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw Failure.unreachable("not HTTP") }
            return (data, http)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.unreachable("\(request.url?.host ?? "provider"): \(error.localizedDescription)")
        }
    }
}
