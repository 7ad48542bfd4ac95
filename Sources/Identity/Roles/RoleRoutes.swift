import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Built-in and custom roles.
struct RoleRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/roles"
        routes.get(RouterPath(base)) { _, context in try await list(context) }
        routes.post(RouterPath(base)) { request, context in try await create(request, context) }
        routes.get("\(base)/{name}") { _, context in try await get(context) }
        routes.patch("\(base)/{name}") { request, context in try await update(request, context) }
        routes.delete("\(base)/{name}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
    }

    private var catalog: [Permission] { services.permissions.catalog }

    func list(_ context: AppRequestContext) async throws -> Response {
        try context.require(.rolesRead)
        let tenant = try context.requireTenant()
        let custom = try await services.database.read(tenant: tenant) { tx in try await RoleStore().list(in: tx) }
        let roles = BuiltInRole.allCases.map { Role.builtIn($0, among: catalog) } + custom
        return try JSONResponse.make(Page(data: roles, nextCursor: nil))
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.rolesRead)
        return try JSONResponse.make(try await find(context))
    }

    private func find(_ context: AppRequestContext) async throws -> Role {
        let tenant = try context.requireTenant()
        let name = context.parameters.get("name") ?? ""
        if let builtIn = BuiltInRole(rawValue: name) { return Role.builtIn(builtIn, among: catalog) }
        guard
            let role = try await services.database.read(
                tenant: tenant, { tx in try await RoleStore().find(name: name, in: tx) })
        else { throw DomainError.notFound(entity: "role") }
        return role
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(RoleService.Input.self, from: request, context: context)
        let role = try await RoleService(services: services).create(body, by: context.caller(request))
        return try JSONResponse.created(role, location: "\(IdentityAPI.base)/roles/\(role.name)")
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.rolesWrite)
        let tenant = try context.requireTenant()
        let existing = try await find(context)
        if existing.builtIn { throw DomainError.conflict("built-in roles cannot be changed") }
        let body = try await JSONBody.decode(RoleService.Input.self, from: request, context: context)
        if let name = body.name, name != existing.name {
            throw DomainError.validation([FieldIssue(field: "name", code: "immutable", message: "cannot be changed")])
        }
        let role = Role(
            name: existing.name, description: body.description ?? existing.description,
            permissions: try body.permissions.map {
                try RoleService.permissions($0, catalog: catalog, holder: context.requirePrincipal())
            } ?? existing.permissions,
            builtIn: false)
        let now = services.clock.now()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            try await RoleStore().update(role, now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "role.updated", actor: actor, targetType: "role", targetID: role.name, ip: origin.ip,
                    requestID: origin.requestID,
                    changes: AuditEntry.changes(
                        before: RoleService.snapshot(existing), after: RoleService.snapshot(role))),
                in: tx, at: now)
        }
        services.permissions.invalidate(tenant: tenant)
        return try JSONResponse.make(role)
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.rolesWrite)
        let tenant = try context.requireTenant()
        let existing = try await find(context)
        if existing.builtIn { throw DomainError.conflict("built-in roles cannot be deleted") }
        let now = services.clock.now()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            guard try await RoleStore().delete(name: existing.name, in: tx) else {
                throw DomainError.notFound(entity: "role")
            }
            try await AuditTrail().record(
                AuditEntry(
                    action: "role.deleted", actor: actor, targetType: "role", targetID: existing.name, ip: origin.ip,
                    requestID: origin.requestID,
                    changes: AuditEntry.changes(before: RoleService.snapshot(existing), after: [:])),
                in: tx, at: now)
        }
        services.permissions.invalidate(tenant: tenant)
        return JSONResponse.noContent()
    }
}
