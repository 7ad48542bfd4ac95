import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `users`, `users/me` and password change.
struct UserRoutes: Sendable {
    let services: IdentityServices

    struct ProfileBody: JSONRequestBody {
        let name: String?
        let locale: String?
        let timeZone: String?
        static let fieldNames: Set<String> = ["name", "locale", "time_zone"]
        enum CodingKeys: String, CodingKey {
            case name, locale
            case timeZone = "time_zone"
        }
    }

    struct AdminUpdateBody: JSONRequestBody {
        let name: String?
        let locale: String?
        let timeZone: String?
        let roles: [String]?
        let status: User.Status?
        static let fieldNames: Set<String> = ["name", "locale", "time_zone", "roles", "status"]
        enum CodingKeys: String, CodingKey {
            case name, locale, roles, status
            case timeZone = "time_zone"
        }
    }

    func register(on routes: RouteRegistrar) {
        let base = IdentityAPI.base
        routes.get("\(base)/users/me") { _, context in try await me(context) }
        routes.patch("\(base)/users/me") { request, context in try await updateMe(request, context) }
        routes.post("\(base)/users/me/password") { request, context in try await changePassword(request, context) }
        routes.get("\(base)/users") { request, context in try await list(request, context) }
        routes.get("\(base)/users/{id}") { _, context in try await get(context) }
        routes.patch("\(base)/users/{id}") { request, context in try await update(request, context) }
        routes.delete("\(base)/users/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await deactivate(request, context) }
        }
    }

    static func etag(_ user: User) -> String { Preconditions.etag(version: user.version) }

    func me(_ context: AppRequestContext) async throws -> Response {
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
        guard
            let user = try await services.database.read(
                tenant: tenant, { tx in try await UserStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "user") }
        return try JSONResponse.make(user, headers: [.eTag: Self.etag(user)])
    }

    func updateMe(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try context.requireUserID()
        let body = try await JSONBody.decode(ProfileBody.self, from: request, context: context)
        let update = AdminUpdateBody(
            name: body.name, locale: body.locale, timeZone: body.timeZone, roles: nil, status: nil)
        return try await apply(update, to: id, request: request, context: context)
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.usersRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorPosition().map { position in
            guard let id = ID<User>(position) else { throw Problem(status: .badRequest, detail: "bad cursor") }
            return id
        }
        var status: User.Status?
        if let text = request.query("status") {
            guard let parsed = User.Status(rawValue: text) else {
                throw DomainError.validation([
                    FieldIssue(field: "status", code: "invalid_value", message: "one of active, invited, deactivated")
                ])
            }
            status = parsed
        }
        let email = request.query("email").map { EmailAddress.normalise($0) ?? $0 }
        let statusFilter = status
        let users = try await services.database.read(tenant: tenant) { tx in
            try await UserStore().list(limit: limit + 1, after: after, status: statusFilter, email: email, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: users, limit: limit) { $0.id.description })
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.usersRead)
        let tenant = try context.requireTenant()
        let id = try ID<User>.path(context, entity: "user")
        guard
            let user = try await services.database.read(
                tenant: tenant, { tx in try await UserStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "user") }
        return try JSONResponse.make(user, headers: [.eTag: Self.etag(user)])
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.usersWrite)
        let id = try ID<User>.path(context, entity: "user")
        let body = try await JSONBody.decode(AdminUpdateBody.self, from: request, context: context)
        return try await apply(body, to: id, request: request, context: context)
    }

    /// Applies a merge-patch to a user, with the checks an admin change needs: roles that exist and that the caller
    /// holds the permissions of (no self-promotion), never leaving the tenant without an active admin.
    private func apply(_ body: AdminUpdateBody, to id: ID<User>, request: Request, context: AppRequestContext)
        async throws -> Response
    {
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        var validation = Validation()
        if let name = body.name { validation.add(UserRules.nameIssue(name)) }
        validation.add(UserRules.localeIssue(body.locale))
        validation.add(UserRules.timeZoneIssue(body.timeZone))
        if body.status == .invited {
            validation.add(FieldIssue(field: "status", code: "invalid_value", message: "one of active, deactivated"))
        }
        try validation.check()
        if let roles = body.roles {
            try await services.permissions.checkGrant(roles, tenant: tenant, by: principal, field: "roles")
        }
        let headers = request.headers
        let now = services.clock.now()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        let updated = try await services.database.write(tenant: tenant) { tx in
            let users = UserStore()
            guard var user = try await users.find(id: id, in: tx) else { throw DomainError.notFound(entity: "user") }
            try Preconditions.check(headers, etag: Self.etag(user))
            let before = user
            if let name = body.name { user.name = name }
            if let locale = body.locale { user.locale = locale }
            if let timeZone = body.timeZone { user.timeZone = timeZone }
            if let roles = body.roles { user.roles = roles.sorted() }
            if let status = body.status { user.status = status }
            let admin = BuiltInRole.tenantAdmin.rawValue
            let losesAdmin =
                before.status == .active && before.roles.contains(admin)
                && (!user.roles.contains(admin) || user.status != .active)
            if losesAdmin, try await users.countActive(withRole: admin, in: tx) <= 1 {
                throw DomainError.conflict("this is the tenant's last active tenant-admin")
            }
            let saved = try await users.update(user, now: now, in: tx)
            if saved.status == .deactivated && before.status != .deactivated {
                try await SessionStore().revokeAll(of: id, reason: "user_deactivated", now: now, in: tx)
            }
            let changes = AuditEntry.changes(before: before.auditSnapshot, after: saved.auditSnapshot)
            if !changes.isEmpty {
                try await AuditTrail().record(
                    AuditEntry(
                        action: saved.status == .deactivated && before.status != .deactivated
                            ? "user.deactivated" : "user.updated",
                        actor: actor, targetType: "user", targetID: id.description, ip: origin.ip,
                        requestID: origin.requestID, changes: changes),
                    in: tx, at: now)
            }
            return saved
        }
        services.permissions.invalidate(tenant: tenant)
        return try JSONResponse.make(updated, headers: [.eTag: Self.etag(updated)])
    }

    func deactivate(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.usersWrite)
        let id = try ID<User>.path(context, entity: "user")
        let principal = try context.requirePrincipal()
        if principal.subject == id.description {
            throw DomainError.conflict("you cannot deactivate yourself")
        }
        let body = AdminUpdateBody(name: nil, locale: nil, timeZone: nil, roles: nil, status: .deactivated)
        _ = try await apply(body, to: id, request: request, context: context)
        return JSONResponse.noContent()
    }

    /// Changes the caller's password after checking the current one; other sessions are signed out.
    func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(UserService.PasswordBody.self, from: request, context: context)
        try await UserService(services: services).changePassword(body, by: context.caller(request))
        return JSONResponse.noContent()
    }

}
