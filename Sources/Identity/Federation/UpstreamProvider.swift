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
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2]),
            let header = try? JSONDecoder().decode([String: JSONValue].self, from: headerData),
            case .string(let alg)? = header["alg"]
        else { throw Failure.invalidIDToken("malformed") }
        guard let jwksURL = URL(string: metadata.jwksURI) else { throw Failure.badMetadata("jwks_uri") }
        let keys = try JSONDecoder().decode(KeySet.self, from: try await get(jwksURL)).keys
        let kid: String? = if case .string(let value)? = header["kid"] { value } else { nil }
        let candidates = keys.filter { kid == nil || $0.kid == kid }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        let valid = candidates.contains { key in key.verifies(signature: signature, of: signed, alg: alg) }
        guard valid else { throw Failure.invalidIDToken("signature does not verify with the provider's keys") }
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

    /// A JWK of any of the key types providers publish; only what verification needs.
    struct Key: Decodable {
        let kty: String
        let kid: String?
        let crv: String?
        let x: String?
        let y: String?
        let n: String?
        let e: String?

        func verifies(signature: Data, of data: Data, alg: String) -> Bool {
            switch (alg, kty) {
            case ("ES256", "EC"):
                guard crv == "P-256", let x = x.flatMap(Base64URL.decode), let y = y.flatMap(Base64URL.decode),
                    let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y),
                    let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
                else { return false }
                return key.isValidSignature(ecdsa, for: data)
            case ("RS256", "RSA"):
                guard let n = n.flatMap(Base64URL.decode), let e = e.flatMap(Base64URL.decode),
                    let key = try? _RSA.Signing.PublicKey(n: n, e: e)
                else { return false }
                return key.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: data),
                    padding: .insecurePKCS1v1_5)
            default:
                return false
            }
        }
    }

    struct KeySet: Decodable {
        let keys: [Key]
    }
}
