import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// The JSON API under `/api/v1/identity/`.
struct IdentityAPI: Sendable {
    let services: IdentityServices
    static let base = "/api/v1/identity"

    func register(on routes: RouteRegistrar) {
        AccountRoutes(services: services).register(on: routes)
        UserRoutes(services: services).register(on: routes)
        MFARoutes(services: services).register(on: routes)
        RoleRoutes(services: services).register(on: routes)
        APIKeyRoutes(services: services).register(on: routes)
        SessionRoutes(services: services).register(on: routes)
        AuditRoutes(services: services).register(on: routes)
        TenantRoutes(services: services).register(on: routes)
        OAuthClientRoutes(services: services).register(on: routes)
        InvitationRoutes(services: services).register(on: routes)
        ProviderRoutes(services: services).register(on: routes)
        IdentityOpenAPI.register(on: routes)
    }
}

extension AppRequestContext {
    /// The signed-in user's id; 403 for API keys and service tokens, which are not users.
    func requireUserID() throws -> ID<User> {
        let principal = try requirePrincipal()
        guard principal.kind == .user, let id = ID<User>(principal.subject) else {
            throw Problem(status: .forbidden, detail: "this action is for signed-in users, not API keys or services")
        }
        return id
    }
}

extension Caller {
    /// The signed-in user's id; 403 for API keys and services.
    func requireUserID() throws -> ID<User> {
        guard principal.kind == .user, let id = ID<User>(principal.subject) else {
            throw Problem(status: .forbidden, detail: "this action is for signed-in users, not API keys or services")
        }
        return id
    }
}
