import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// API keys: create (secret shown once), list, get, revoke.
struct APIKeyRoutes: Sendable {
    let services: IdentityServices

    struct CreateBody: JSONRequestBody {
        let name: String
        let permissions: [String]
        let expiresAt: String?
        static let fieldNames: Set<String> = ["name", "permissions", "expires_at"]
        enum CodingKeys: String, CodingKey {
            case name, permissions
            case expiresAt = "expires_at"
        }
    }

    struct Created: Encodable {
        let key: APIKey
        let secret: String

        func encode(to encoder: any Encoder) throws {
            try key.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(secret, forKey: .secret)
        }
        enum CodingKeys: String, CodingKey { case secret }
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/api-keys"
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.post(RouterPath(base)) { request, context in try await create(request, context) }
        routes.get("\(base)/{id}") { _, context in try await get(context) }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await revoke(request, context) }
        }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(CreateBody.self, from: request, context: context)
        let created = try await create(body, request, context)
        return try JSONResponse.created(created, location: "\(IdentityAPI.base)/api-keys/\(created.key.id)")
    }

    func create(_ body: CreateBody, _ request: Request, _ context: AppRequestContext) async throws -> Created {
        try context.require(.apiKeysWrite)
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        let now = services.clock.now()
        var validation = Validation()
        let name = body.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 100 {
            validation.add(FieldIssue(field: "name", code: "invalid_length", message: "1 to 100 characters"))
        }
        var permissions: [Permission] = []
        for text in body.permissions {
            if let permission = Permission(text), services.permissions.catalog.contains(permission) {
                permissions.append(permission)
            } else {
                validation.add(
                    FieldIssue(field: "permissions", code: "invalid_value", message: "no permission \(text)"))
            }
        }
        if body.permissions.isEmpty {
            validation.add(FieldIssue(field: "permissions", code: "required", message: "name at least one permission"))
        }
        var expiresAt: Date?
        if let text = body.expiresAt {
            if let date = RFC3339.date(from: text), date > now {
                expiresAt = date
            } else {
                validation.add(
                    FieldIssue(field: "expires_at", code: "invalid_value", message: "a future RFC 3339 time"))
            }
        }
        try validation.check()
        if !Set(permissions).isSubset(of: principal.permissions) {
            throw DomainError.forbidden("an API key cannot have permissions you do not hold")
        }
        let actor = try context.auditActor()
        let origin = context.origin(request)
        let granted = Array(Set(permissions))
        let expiry = expiresAt
        let created = try await services.database.write(tenant: tenant) { tx in
            let result = try await APIKeyStore().create(
                name: name, permissions: granted, expiresAt: expiry, createdBy: principal.subject,
                now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "api_key.created", actor: actor, targetType: "api_key", targetID: result.key.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    details: [
                        "name": .string(name), "prefix": .string(result.key.prefix),
                        "permissions": .array(
                            result.key.permissions.map { .string($0.description) }.sorted { "\($0)" < "\($1)" }),
                    ]),
                in: tx, at: now)
            return Created(key: result.key, secret: result.secret)
        }
        return created
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.apiKeysRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let before = try request.cursorPosition().flatMap(ID<APIKey>.init)
        let includeRevoked = request.query("include_revoked") == "true"
        let keys = try await services.database.read(tenant: tenant) { tx in
            try await APIKeyStore().list(limit: limit + 1, before: before, includeRevoked: includeRevoked, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: keys, limit: limit) { $0.id.description })
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.apiKeysRead)
        let tenant = try context.requireTenant()
        let id = try ID<APIKey>.path(context, entity: "API key")
        guard
            let key = try await services.database.read(
                tenant: tenant, { tx in try await APIKeyStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "API key") }
        return try JSONResponse.make(key)
    }

    func revoke(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.apiKeysWrite)
        let tenant = try context.requireTenant()
        let id = try ID<APIKey>.path(context, entity: "API key")
        let now = services.clock.now()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            guard try await APIKeyStore().revoke(id: id, now: now, in: tx) else {
                throw DomainError.notFound(entity: "API key")
            }
            try await AuditTrail().record(
                AuditEntry(
                    action: "api_key.revoked", actor: actor, targetType: "api_key", targetID: id.description,
                    ip: origin.ip, requestID: origin.requestID),
                in: tx, at: now)
        }
        return JSONResponse.noContent()
    }
}
