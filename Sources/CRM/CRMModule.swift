import Foundation
import Kernel
import Logging
import Platform
import ServiceLifecycle
import Synchronization

/// CRM: leads, companies, contacts, deals in pipelines, activities with reminders and timelines, typed custom
/// fields, full-text search, saved views, assignment rules, analytics.
package struct CRMModule: Module {
    package let name = "crm"
    private let built = ServicesSlot()

    package init() {}

    package var permissions: [Permission] { Permission.crmAll }
    package var migrations: [Migration] { CRMMigrations.all }
    package var uploadPaths: [String] { AttachmentRoutes.uploadPaths }
    /// Its scripts and texts, from the target's resource folder.
    package func webResources() throws -> WebResources {
        try .bundled(owner: name, folder: "Inopsio_CRM.resources")
    }

    package func consumers(context: ModuleContext) -> [any EventConsumer] {
        [CRMCacheInvalidator(cache: services(context).cache)]
    }

    package func jobHandlers(context: ModuleContext) -> [any JobHandler] {
        [ActivityReminder(database: context.database, clock: context.clock), ImportJob(services: services(context))]
    }

    package func backgroundServices(context: ModuleContext) -> [any Service] {
        let services = services(context)
        if let redis = services.cache.redis { return [redis] }
        // A service may not end before the server does: the listener runs only where there is something to hear.
        guard context.database.dialect == .postgres else { return [] }
        return [CRMCacheListener(database: context.database, cache: services.cache, logger: context.logger)]
    }

    package func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        CRMAPI(services: services(context)).register(on: routes)
    }

    package func registerPages(on routes: RouteRegistrar, context: ModuleContext) {
        CRMPages(services: services(context), web: context.web).register(on: routes)
    }

    /// The services for `context`, built on first use (routes, consumers and background services share the cache).
    func services(_ context: ModuleContext) -> CRMServices {
        built.value.withLock { slot in
            if let existing = slot { return existing }
            let created = CRMServices(context: context)
            slot = created
            return created
        }
    }
}

/// Holds the services of one module value (a module value is assembled into exactly one application).
private final class ServicesSlot: Sendable {
    let value = Mutex<CRMServices?>(nil)
}

/// What the CRM's routes share.
package struct CRMServices: Sendable {
    let database: any Database
    let clock: any WallClock
    let cache: CRMCache
    /// Which ids are the tenant's users (Identity's directory); `nil` only in tests of the module alone.
    let users: (any UserDirectory)?

    /// Where attachments' bytes are kept.
    let blobs: any BlobStore
    /// The largest attachment (`max_upload_bytes`).
    let maxUploadBytes: Int
    let logger: Logger

    init(context: ModuleContext) {
        database = context.database
        clock = context.clock
        users = context.users
        blobs = context.blobs
        maxUploadBytes = context.configuration.maxUploadBytes
        logger = context.logger
        var redis: RedisClient?
        if let url = context.configuration.redisURL {
            do {
                var configuration = try RedisConfiguration(url: url)
                configuration.clientName = "inopsio-crm-cache"
                if !configuration.timeoutFromURL {
                    configuration.commandTimeout = .milliseconds(250)
                    configuration.connectTimeout = .milliseconds(250)
                }
                redis = try RedisClient(configuration: configuration, logger: context.logger)
            } catch {
                context.logger.warning(
                    "crm cache: redis_url is not usable, caching in process", metadata: ["error.message": "\(error)"])
            }
        }
        cache = CRMCache(redis: redis, logger: context.logger)
    }

    /// The user references a body carries (`owner_id`, `users`) must name users of the caller's tenant, else 422
    /// (API.md); `prefix` places them in the body (`patch.`).
    func requireUsers(in fields: [String: JSONValue], prefix: String = "", _ context: AppRequestContext) async throws {
        guard let users else { return }
        var references: [(field: String, id: String)] = []
        if case .string(let id)? = fields["owner_id"] { references.append((prefix + "owner_id", id)) }
        if case .array(let items)? = fields["users"] {
            for (index, item) in items.enumerated() {
                if case .string(let id) = item { references.append(("\(prefix)users[\(index)]", id)) }
            }
        }
        try await users.requireUsers(references, tenant: context.requireTenant())
    }

    /// Drops the tenant's cached board and analytics: called after a change commits (the `crm.cache` consumer
    /// does the same for every process when its event arrives).
    func changed(_ tenant: TenantID) async {
        await cache.invalidate(tenant)
    }
}
