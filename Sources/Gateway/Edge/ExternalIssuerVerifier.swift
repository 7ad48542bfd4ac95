import AsyncHTTPClient
import Foundation
import Kernel
import Logging
import NIOCore
import Platform
import Synchronization

/// Verifies access tokens of other OpenID providers (a Keycloak realm, say) against their JWKS: fetched on first
/// use, cached for ten minutes, fetched again when a token names a key id the cache does not have (the provider
/// rotated), but at most every ten seconds so forged key ids cannot make us hammer the provider.
package final class ExternalIssuerVerifier: Sendable {
    private let fetch: @Sendable (String) async throws -> Data
    private let cache = Mutex<[String: Entry]>([:])
    private let now: @Sendable () -> Date
    static let maxAge: TimeInterval = 600
    static let minRefetchInterval: TimeInterval = 10

    struct Entry {
        var keys: [VerificationKey]
        var fetchedAt: Date
    }

    /// When a fetch last failed, per URL: for ten seconds no request waits on another attempt.
    private let failures = Mutex<[String: Date]>([:])

    package init(
        fetch: @escaping @Sendable (String) async throws -> Data, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.fetch = fetch
        self.now = now
    }

    /// Fetches JWKS documents with the gateway's HTTP client (5 s deadline).
    package convenience init(clients: UpstreamClients) {
        self.init(fetch: { url in
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "accept", value: "application/json")
            let client = clients.client(connectTimeout: .seconds(2))
            let response = try await client.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw ExternalIssuerError.jwksUnavailable(url) }
            return Data(buffer: try await response.body.collect(upTo: 1_048_576))
        })
    }

    enum ExternalIssuerError: Error {
        case jwksUnavailable(String)
    }

    func authenticate(token: String, issuer: ExternalIssuerDefinition) async throws -> Authentication {
        var keys = try await keys(for: issuer.jwksUrl, forceRefresh: false)
        var verified = VerificationKey.verify(token, keys: keys)
        if verified == nil, let kid = JSONWebToken.unverifiedKeyID(token), !keys.contains(where: { $0.kid == kid }) {
            keys = try await self.keys(for: issuer.jwksUrl, forceRefresh: true)
            verified = VerificationKey.verify(token, keys: keys)
        }
        guard let (_, payload) = verified,
            let claims = try? JSONDecoder().decode([String: JSONValue].self, from: payload)
        else { throw Problem.invalidToken() }
        let time = now().timeIntervalSince1970
        guard claims["iss"] == .string(issuer.issuer) else {
            throw Problem.invalidToken(detail: "the token's issuer does not match")
        }
        guard case .string(let subject)? = claims["sub"], !subject.isEmpty else {
            throw Problem.invalidToken(detail: "the token names no subject")
        }
        guard let exp = Self.seconds(claims["exp"]), exp + 30 > time else {
            throw Problem.invalidToken(detail: "the token has expired")
        }
        if let nbf = Self.seconds(claims["nbf"]), nbf - 30 > time {
            throw Problem.invalidToken(detail: "the token is not valid yet")
        }
        if let audience = issuer.audience {
            let audiences: [String] =
                switch claims["aud"] {
                case .string(let one)?: [one]
                case .array(let many)?: many.compactMap { if case .string(let value) = $0 { value } else { nil } }
                default: []
                }
            guard audiences.contains(audience) else {
                throw Problem.invalidToken(detail: "the token is not meant for this API")
            }
        }
        guard let tenant = TenantID(issuer.tenantId) else { throw Problem.invalidToken() }
        return Authentication(
            tenant: tenant,
            principal: Principal(
                subject: "\(issuer.issuer)#\(subject)", kind: .user,
                permissions: Self.permissions(claims: claims, issuer: issuer)))
    }

    /// Values of the configured claim (a space-separated string or an array, at a dotted path), mapped through
    /// `role_permissions`; values that are permissions themselves count as they are.
    static func permissions(claims: [String: JSONValue], issuer: ExternalIssuerDefinition) -> Set<Permission> {
        guard let path = issuer.permissionsClaim else { return [] }
        var value: JSONValue? = .object(claims)
        for name in path.split(separator: ".") {
            guard case .object(let object)? = value else { return [] }
            value = object[String(name)]
        }
        let names: [String] =
            switch value {
            case .string(let text)?: text.split(separator: " ").map(String.init)
            case .array(let items)?: items.compactMap { if case .string(let text) = $0 { text } else { nil } }
            default: []
            }
        var result = Set<Permission>()
        for name in names {
            if let mapped = issuer.rolePermissions?[name] {
                result.formUnion(mapped.compactMap(Permission.init))
            } else if let permission = Permission(name) {
                result.insert(permission)
            }
        }
        return result
    }

    static func seconds(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let whole)?: Double(whole)
        case .number(let fraction)?: fraction
        default: nil
        }
    }

    private func keys(for url: String, forceRefresh: Bool) async throws -> [VerificationKey] {
        let time = now()
        let cached = cache.withLock { $0[url] }
        if let cached {
            let age = time.timeIntervalSince(cached.fetchedAt)
            if !forceRefresh && age < Self.maxAge { return cached.keys }
            if forceRefresh && age < Self.minRefetchInterval { return cached.keys }
        }
        let unavailable = Problem(
            status: .serviceUnavailable, detail: "the token issuer's keys cannot be fetched right now")
        if let failed = failures.withLock({ $0[url] }), time.timeIntervalSince(failed) < Self.minRefetchInterval {
            if let cached { return cached.keys }
            throw unavailable
        }
        do {
            let keys = try JSONDecoder().decode(VerificationKey.Set.self, from: try await fetch(url)).keys
            cache.withLock { $0[url] = Entry(keys: keys, fetchedAt: time) }
            failures.withLock { _ = $0.removeValue(forKey: url) }
            return keys
        } catch {
            // The provider is down: keep using keys we have rather than refusing every token, and do not let
            // every request wait on it again for a while.
            failures.withLock { $0[url] = time }
            if let cached { return cached.keys }
            throw unavailable
        }
    }
}
