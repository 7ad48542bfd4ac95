import Foundation
import Kernel
import Platform
import Synchronization

/// Each tenant's plan (for plan-specific rate limits), read from the tenant record and kept for 30 seconds.
package final class TenantPlanCache: Sendable {
    private let tenants: TenantStore
    private let cache = Mutex<[TenantID: (plan: String?, loadedAt: ContinuousClock.Instant)]>([:])
    private let ttl: Duration = .seconds(30)

    package init(database: any Database) {
        self.tenants = TenantStore(database: database)
    }

    func plan(of tenant: TenantID) async -> String? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[tenant] }), now - cached.loadedAt < ttl { return cached.plan }
        // A failed read leaves the default limits in force rather than failing the request.
        let plan = (try? await tenants.find(id: tenant))?.plan
        cache.withLock { $0[tenant] = (plan, now) }
        return plan
    }
}
