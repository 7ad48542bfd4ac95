import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Open sessions: your own, or (with `identity.sessions:read`) everyone's; revoking one signs it out.
struct SessionRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/sessions"
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await revoke(request, context) }
        }
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        let limit = try request.pageLimit()
        let before = try request.cursorPosition().flatMap(ID<Session>.init)
        var user: ID<User>?
        if let text = request.query("user_id") {
            guard let id = ID<User>(text) else { throw DomainError.notFound(entity: "user") }
            user = id
        }
        // Without the permission a caller sees only their own sessions.
        if !principal.permissions.contains(.sessionsRead) {
            let own = try context.requireUserID()
            if let user, user != own {
                throw DomainError.forbidden("listing other users' sessions needs identity.sessions:read")
            }
            user = own
        }
        let now = services.clock.now()
        let filter = user
        let sessions = try await services.database.read(tenant: tenant) { tx in
            try await SessionStore().listOpen(user: filter, now: now, limit: limit + 1, before: before, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: sessions, limit: limit) { $0.id.description })
    }

    func revoke(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let caller = try context.caller(request)
        try await SessionService(services: services).revoke(
            ID<Session>.path(context, entity: "session"), by: caller)
        return JSONResponse.noContent()
    }
}
