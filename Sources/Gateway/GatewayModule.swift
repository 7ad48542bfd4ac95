import Foundation
import Kernel
import Platform
import ServiceLifecycle
import Synchronization

/// The API gateway: the one entry point of a deployment. In one process it sits in front of the modules' routers
/// and calls them directly; in a split deployment it proxies to remote module processes over HTTP.
package struct GatewayModule: Module {
    package let name = "gateway"
    /// Every module of the binary with the paths it serves, for the default routes to remote modules.
    let catalog: [(name: String, pathPrefixes: [String])]
    /// Each module's upload paths (`Module.uploadPaths`), by module name.
    let uploads: [String: [String]]
    private let built = RuntimeSlot()

    package init(catalog: [(name: String, pathPrefixes: [String])] = [], uploads: [String: [String]] = [:]) {
        self.catalog = catalog
        self.uploads = uploads
    }

    package var permissions: [Permission] { GatewayPermissions.all }
    package var migrations: [Migration] { GatewayMigrations.all }
    package var pathPrefixes: [String] { ["/api/v1/gateway/"] }

    package func edgeHandler(context: ModuleContext, authenticator: (any RequestAuthenticator)?) throws
        -> (any EdgeHandler)?
    {
        try runtime(context, authenticator: authenticator).edge
    }

    package func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        guard let runtime = built.value.withLock({ $0 }) else { return }
        GatewayAdminRoutes(runtime: runtime, context: context).register(on: routes)
    }

    package func backgroundServices(context: ModuleContext) -> [any Service] {
        guard let runtime = built.value.withLock({ $0 }) else { return [] }
        return runtime.services
    }

    /// The runtime once the router has been built (for tests and the composition root).
    package var runtimeForTesting: GatewayRuntime? { built.value.withLock { $0 } }

    /// The gateway's runtime for `context`, built once: the router asks for the edge handler first, then the
    /// routes and the background services share it.
    func runtime(_ context: ModuleContext, authenticator: (any RequestAuthenticator)?) throws -> GatewayRuntime {
        try built.value.withLock { slot in
            if let existing = slot { return existing }
            let created = try GatewayRuntime(
                context: context, catalog: catalog, uploads: uploads, authenticator: authenticator)
            slot = created
            return created
        }
    }
}

/// Holds the runtime of one module value (a module value is assembled into exactly one application).
private final class RuntimeSlot: Sendable {
    let value = Mutex<GatewayRuntime?>(nil)
}

/// The gateway's permissions: reading its routes and upstream health, and managing the block list.
package enum GatewayPermissions {
    package static let routesRead: Permission = "gateway.routes:read"
    package static let blocklistRead: Permission = "gateway.blocklist:read"
    package static let blocklistWrite: Permission = "gateway.blocklist:write"
    package static let all: [Permission] = [routesRead, blocklistRead, blocklistWrite]
}
