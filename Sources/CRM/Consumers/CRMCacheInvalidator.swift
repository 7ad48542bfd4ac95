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
        guard cache.redis == nil else { return }
        await database.listenUntilShutdown(
            channel: CRMCache.notifyChannel, logger: logger,
            lost: "crm cache lost its notifications (answers expire within a minute meanwhile)"
        ) { payload in
            if let tenant = TenantID(payload) { cache.invalidateLocally(tenant) }
        }
    }
}
