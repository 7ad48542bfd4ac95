import Foundation
import Kernel
import Synchronization

/// Access tokens whose signature and claims were already verified, with their claims, until they expire: an
/// ES256 verification costs about 90 µs of CPU, more than everything else the gateway does for a request, and a
/// client sends the same token for its whole 15 minutes (Envoy's jwt_authn caches verified tokens the same
/// way). Only the verification is cached; permissions are still resolved per request (role changes apply), and
/// the tenant's status still checked. Bounded: when full, expired entries go first, then everything.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: (token: VerifiedToken, expiresAt: TimeInterval)]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func claims(for token: String, now: Date) -> VerifiedToken? {
        let time = now.timeIntervalSince1970
        return entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expiresAt > time else {
                entries.removeValue(forKey: token)
                return nil
            }
            return entry.token
        }
    }

    func store(_ claims: AccessTokenClaims, for token: String, now: Date) {
        let time = now.timeIntervalSince1970
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > time }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = (VerifiedToken(claims), Double(claims.registered.exp))
        }
    }
}

/// A verified token's claims with what every request derives from its `scope` parsed once.
struct VerifiedToken: Sendable {
    let claims: AccessTokenClaims
    let permissionScopes: Set<Permission>?
    let scopes: Set<String>

    init(_ claims: AccessTokenClaims) {
        self.claims = claims
        self.permissionScopes = claims.permissionScopes
        self.scopes = Set(claims.scope.split(separator: " ").map(String.init))
    }
}
