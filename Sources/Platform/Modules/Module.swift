import Foundation
import Kernel
import Logging
import ServiceLifecycle

/// One domain module (CRM, ERP, ...) as the composition root sees it: everything it contributes to a process.
/// Modules never import each other; they share Kernel types and talk through events or HTTP.
package protocol Module: Sendable {
    /// Lower-case name used by `--modules` and as the owner of its migrations (`crm`).
    var name: String { get }
    /// The permissions this module checks, declared so roles can be built from them.
    var permissions: [Permission] { get }
    /// This module's migrations, numbered 1, 2, 3, ...
    var migrations: [Migration] { get }
    /// The columns where this module keeps secrets sealed with `ModuleContext.secrets` (re-sealed on key rotation).
    var secretColumns: [SecretColumn] { get }
    /// Event consumers to run, one consumer group each.
    func consumers(context: ModuleContext) -> [any EventConsumer]
    /// Jobs to enqueue on cron schedules (their handlers are in `jobHandlers`).
    var schedules: [JobSchedule] { get }
    /// Handlers of enqueued jobs (`Jobs.enqueue`) this module runs.
    func jobHandlers(context: ModuleContext) -> [any JobHandler]
    /// JSON API routes under `/api/v1/<name>/...`.
    func registerRoutes(on routes: RouteRegistrar, context: ModuleContext)
    /// Server-rendered HTML pages.
    func registerPages(on routes: RouteRegistrar, context: ModuleContext)
    /// The verifier of bearer credentials for every route of the process, if this module issues them (Identity).
    func authenticator(context: ModuleContext) -> (any RequestAuthenticator)?
    /// The directory of tenants' users, if this module keeps them (Identity).
    func userDirectory(context: ModuleContext) -> (any UserDirectory)?
    /// The module's WebSocket endpoints (see `WebSocketRoute`).
    func webSocketRoutes(context: ModuleContext) -> [WebSocketRoute]
    /// Long-running housekeeping to run in the server's service group (until the jobs runner of the events issue).
    func backgroundServices(context: ModuleContext) -> [any Service]
    /// The paths this module serves, its API and pages; the gateway routes them to the module's process.
    var pathPrefixes: [String] { get }
    /// The paths where this module takes files by `POST` (see `UploadPaths`).
    var uploadPaths: [String] { get }
    /// The module's static files and texts (its pages' scripts, its `<module>.*` strings in every language),
    /// merged into the process's web kit at start-up.
    func webResources() throws -> WebResources
    /// The gateway's handler in front of the router, if this module is the gateway. `authenticator` is the
    /// process's verifier of Inopsio credentials.
    func edgeHandler(context: ModuleContext, authenticator: (any RequestAuthenticator)?) throws -> (any EdgeHandler)?
}

extension Module {
    package var permissions: [Permission] { [] }
    package var migrations: [Migration] { [] }
    package var secretColumns: [SecretColumn] { [] }
    package func consumers(context: ModuleContext) -> [any EventConsumer] { [] }
    package var schedules: [JobSchedule] { [] }
    package func jobHandlers(context: ModuleContext) -> [any JobHandler] { [] }
    package func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {}
    package func registerPages(on routes: RouteRegistrar, context: ModuleContext) {}
    package func authenticator(context: ModuleContext) -> (any RequestAuthenticator)? { nil }
    package func userDirectory(context: ModuleContext) -> (any UserDirectory)? { nil }
    package func webSocketRoutes(context: ModuleContext) -> [WebSocketRoute] { [] }
    package func backgroundServices(context: ModuleContext) -> [any Service] { [] }
    package var pathPrefixes: [String] { ["/api/v1/\(name)/", "/\(name)/"] }
    package var uploadPaths: [String] { [] }
    package func webResources() throws -> WebResources { WebResources(owner: name) }
    package func edgeHandler(context: ModuleContext, authenticator: (any RequestAuthenticator)?) throws
        -> (any EdgeHandler)?
    { nil }
}
