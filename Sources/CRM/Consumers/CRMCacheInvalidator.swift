import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import ServiceLifecycle

/// The `crm.cache` consumer group: each CRM change's event drops the tenant's cached answers in every process.
struct CRMCacheInvalidator: EventConsumer {
    let group = "crm.cache"
    let eventTypes = [
        "crm.lead.created", "crm.lead.updated", "crm.lead.deleted", "crm.lead.converted",
        "crm.deal.created", "crm.deal.updated", "crm.deal.deleted", "crm.pipeline.created", "crm.pipeline.updated",
        "crm.pipeline.deleted",
    ]
    let cache: CRMCache

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        guard let tenant = TenantID(event.tenantid) else { return }
        if cache.redis != nil {
            await cache.invalidate(tenant)
        } else if transaction.dialect == .postgres {
            try await transaction.sql.raw(
                "SELECT pg_notify(\(bind: CRMCache.notifyChannel), \(bind: tenant.description))"
            ).run()
        } else {
            // SQLite: one process.
            cache.invalidateLocally(tenant)
        }
    }
}

/// Listens for the invalidations `CRMCacheInvalidator` sends through PostgreSQL (in-process caches only).
struct CRMCacheListener: Service {
    let database: any Database
    let cache: CRMCache
    let logger: Logger

    func run() async throws {
        guard database.dialect == .postgres, cache.redis == nil else { return }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown {
                    try await database.listen(channel: CRMCache.notifyChannel) { payload in
                        if let tenant = TenantID(payload) { cache.invalidateLocally(tenant) }
                    }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.warning(
                    "crm cache lost its notifications; reconnecting (answers expire within a minute meanwhile)",
                    metadata: ["error.message": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
