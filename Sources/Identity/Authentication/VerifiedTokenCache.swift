import Foundation
import Synchronization

/// Access tokens whose signature and claims were already verified, with their claims, until they expire: an
/// ES256 verification costs about 90 µs of CPU, more than everything else the gateway does for a request, and a
/// client sends the same token for its whole 15 minutes (Envoy's jwt_authn caches verified tokens the same
/// way). Only the verification is cached; permissions are still resolved per request (role changes apply), and
/// the tenant's status still checked. Bounded: when full, expired entries go first, then everything.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: (claims: AccessTokenClaims, expiresAt: TimeInterval)]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func claims(for token: String, now: Date) -> AccessTokenClaims? {
        let time = now.timeIntervalSince1970
        return entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expiresAt > time else {
                entries.removeValue(forKey: token)
                return nil
            }
            return entry.claims
        }
    }

    func store(_ claims: AccessTokenClaims, for token: String, now: Date) {
        let time = now.timeIntervalSince1970
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > time }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = (claims, Double(claims.registered.exp))
        }
    }
}
