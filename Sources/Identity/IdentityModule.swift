import Foundation
import Kernel
import Platform
import ServiceLifecycle
import Synchronization

/// Identity: tenants' users, roles, sign-in and tokens, API keys and the audit log API. It is the OpenID Connect
/// provider every other module trusts.
package struct IdentityModule: Module {
    package let name = "identity"
    /// Its texts, from the target's resource folder.
    package func webResources() throws -> WebResources {
        try .bundled(owner: name, folder: "Inopsio_Identity.resources")
    }
    let passwordHashing: PasswordHashParameters
    let lifetimes: TokenLifetimes
    private let built = ServicesSlot()

    package init(passwordHashing: PasswordHashParameters = .owasp, lifetimes: TokenLifetimes = TokenLifetimes()) {
        self.passwordHashing = passwordHashing
        self.lifetimes = lifetimes
    }

    package var permissions: [Permission] { Permission.identityAll }
    package var migrations: [Migration] { IdentityMigrations.all }
    package var secretColumns: [SecretColumn] { IdentitySecrets.all }
    package var pathPrefixes: [String] {
        [
            "/api/v1/identity/", "/.well-known/", "/oauth2/", "/auth/", "/login", "/logout", "/signup", "/account",
            "/admin", "/invitations/", "/password/", "/verify-email",
        ]
    }

    package func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        let services = services(context)
        IdentityAPI(services: services).register(on: routes)
        WellKnownRoutes(services: services).register(on: routes)
        OAuthRoutes(services: services).register(on: routes)
    }

    package func registerPages(on routes: RouteRegistrar, context: ModuleContext) {
        AuthorizeRoutes(services: services(context)).register(on: routes)
        FederationRoutes(services: services(context)).register(on: routes)
        WebSession(services: services(context)).register(on: routes)
        AccountPages(services: services(context)).register(on: routes)
        SignedInPages(services: services(context)).register(on: routes)
        AdminPages(services: services(context)).register(on: routes)
    }

    package func consumers(context: ModuleContext) -> [any EventConsumer] { [NoticeConsumer()] }

    package func jobHandlers(context: ModuleContext) -> [any JobHandler] {
        [
            AdminNoticeMailer(database: context.database, mailer: context.mailer),
            UserNoticeMailer(database: context.database, mailer: context.mailer),
        ]
    }

    package func backgroundServices(context: ModuleContext) -> [any Service] {
        [IdentityMaintenanceService(database: context.database, clock: context.clock, logger: context.logger)]
    }

    package func authenticator(context: ModuleContext) -> (any RequestAuthenticator)? {
        services(context).authenticator
    }

    package func userDirectory(context: ModuleContext) -> (any UserDirectory)? {
        IdentityUserDirectory(database: context.database)
    }

    /// The services for `context`, built on first use. The router asks for the authenticator and the routes
    /// separately; both must share one key cache.
    package func services(_ context: ModuleContext) -> IdentityServices {
        built.value.withLock { slot in
            if let existing = slot { return existing }
            let created = IdentityServices(context: context, passwordHashing: passwordHashing, lifetimes: lifetimes)
            slot = created
            return created
        }
    }
}

/// Holds the services of one module value (a module value is assembled into exactly one application).
private final class ServicesSlot: Sendable {
    let value = Mutex<IdentityServices?>(nil)
}
