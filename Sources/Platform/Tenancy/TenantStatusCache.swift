import Foundation
import Kernel
import Synchronization

/// Tenant records by id, cached for a few seconds so that a suspension (or a new plan) takes effect quickly
/// without a database read on every request. Identity checks status with it, the gateway plans.
package final class TenantStatusCache: Sendable {
    private let tenants: TenantStore
    private let clock: any WallClock
    private let ttl: TimeInterval = 5
    private let cache = Mutex<[TenantID: (loadedAt: Date, tenant: Tenant?)]>([:])

    package init(database: any Database, clock: any WallClock) {
        self.tenants = TenantStore(database: database)
        self.clock = clock
    }

    /// The tenant if it exists and is active.
    package func activeTenant(_ id: TenantID) async throws -> Tenant? {
        let tenant = try await self.tenant(id)
        return tenant?.status == .active ? tenant : nil
    }

    /// The tenant whatever its status (its plan, say), from the cache when fresh.
    package func tenant(_ id: TenantID) async throws -> Tenant? {
        let now = clock.now()
        if let cached = cache.withLock({ $0[id] }), now.timeIntervalSince(cached.loadedAt) < ttl {
            return cached.tenant
        }
        let tenant = try await tenants.find(id: id)
        cache.withLock { $0[id] = (now, tenant) }
        return tenant
    }

    /// The cached record while fresh, without reading the database: `.some(nil)` for a tenant known not to exist,
    /// `nil` when nothing fresh is cached.
    package func cachedTenant(_ id: TenantID) -> Tenant?? {
        let now = clock.now()
        guard let cached = cache.withLock({ $0[id] }), now.timeIntervalSince(cached.loadedAt) < ttl else { return nil }
        return .some(cached.tenant)
    }

    package func invalidate(_ id: TenantID) {
        cache.withLock { _ = $0.removeValue(forKey: id) }
    }
}
