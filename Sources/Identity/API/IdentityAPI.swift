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
    /// Where this request came from, for sessions and the audit log.
    func origin(_ request: Request) -> RequestOrigin {
        RequestOrigin(ip: remoteAddress, userAgent: request.headers[.userAgent], requestID: requestID)
    }

    /// The audit actor for the authenticated principal.
    func auditActor() throws -> AuditEntry.Actor {
        let principal = try requirePrincipal()
        return AuditEntry.Actor(kind: principal.kind.rawValue, id: principal.subject)
    }

    /// The signed-in user's id; 403 for API keys and service tokens, which are not users.
    func requireUserID() throws -> ID<User> {
        let principal = try requirePrincipal()
        guard principal.kind == .user, let id = ID<User>(principal.subject) else {
            throw Problem(status: .forbidden, detail: "this action is for signed-in users, not API keys or services")
        }
        return id
    }
}

extension ID {
    /// Parses a path parameter; 404 when it is not an id (nothing can exist at that path).
    static func path(_ context: AppRequestContext, _ name: String = "id", entity: String) throws -> ID {
        guard let text = context.parameters.get(name), let id = ID(text) else {
            throw DomainError.notFound(entity: entity)
        }
        return id
    }
}

/// Collects validation issues and throws them together as one 422.
struct Validation {
    var issues: [FieldIssue] = []

    mutating func add(_ issue: FieldIssue?) {
        if let issue { issues.append(issue) }
    }

    mutating func add(_ more: [FieldIssue]) { issues += more }

    func check() throws {
        if !issues.isEmpty { throw DomainError.validation(issues) }
    }
}
