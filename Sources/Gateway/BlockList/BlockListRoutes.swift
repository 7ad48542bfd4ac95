import Foundation
import Hummingbird
import Kernel
import Logging
import Platform
import ServiceLifecycle

/// `/api/v1/gateway/blocks`: the block list for admins of the operator tenant (list, add with an optional
/// lifetime, remove). Every change is in the operator tenant's audit log.
struct BlockListRoutes {
    let blocks: BlockList
    let operatorCheck: OperatorCheck

    struct NewBlock: JSONRequestBody {
        let kind: String
        let value: String
        let reason: String
        let ttlSeconds: Int?
        static let fieldNames: Set<String> = ["kind", "value", "reason", "ttl_seconds"]

        enum CodingKeys: String, CodingKey {
            case kind, value, reason
            case ttlSeconds = "ttl_seconds"
        }
    }

    struct BlocksView: Codable, Sendable {
        let data: [Block]
    }

    func register(on routes: RouteRegistrar) {
        routes.get("/api/v1/gateway/blocks") { _, context -> Response in
            try await operatorCheck.require(GatewayPermissions.blocklistRead, context)
            return try JSONResponse.make(BlocksView(data: try await blocks.list(now: Date())))
        }
        routes.post("/api/v1/gateway/blocks") { request, context -> Response in
            let tenant = try await operatorCheck.require(GatewayPermissions.blocklistWrite, context)
            let body = try await JSONBody.decode(NewBlock.self, from: request, context: context)
            var issues: [FieldIssue] = []
            let kind = Block.Kind(rawValue: body.kind)
            if kind == nil { issues.append(FieldIssue(field: "kind", code: "invalid_value", message: "ip or api_key")) }
            let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            if reason.isEmpty || reason.count > 500 {
                issues.append(FieldIssue(field: "reason", code: "invalid_value", message: "1 to 500 characters"))
            }
            if let ttl = body.ttlSeconds, !(60...31_536_000).contains(ttl) {
                issues.append(
                    FieldIssue(field: "ttl_seconds", code: "invalid_value", message: "between 60 and 31,536,000"))
            }
            guard issues.isEmpty, let kind else { throw DomainError.validation(issues) }
            let now = Date()
            let principal = try context.requirePrincipal()
            let block = try await blocks.add(
                kind: kind, value: body.value, reason: reason,
                expiresAt: body.ttlSeconds.map { now.addingTimeInterval(TimeInterval($0)) },
                actor: AuditEntry.Actor(kind: principal.kind.rawValue, id: principal.subject), tenant: tenant,
                ip: context.remoteAddress, requestID: context.requestID, now: now)
            return try JSONResponse.created(
                block, location: "/api/v1/gateway/blocks/\(block.id.uuidString.lowercased())")
        }
        routes.delete("/api/v1/gateway/blocks/{id}") { request, context -> Response in
            try await JSONBody.requireNone(request, context: context)
            let tenant = try await operatorCheck.require(GatewayPermissions.blocklistWrite, context)
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                throw DomainError.notFound(entity: "block")
            }
            let principal = try context.requirePrincipal()
            guard
                try await blocks.remove(
                    id: id, actor: AuditEntry.Actor(kind: principal.kind.rawValue, id: principal.subject),
                    tenant: tenant, ip: context.remoteAddress, requestID: context.requestID, now: Date())
            else { throw DomainError.notFound(entity: "block") }
            return JSONResponse.noContent()
        }
    }
}

/// Admits admins of the operator tenant (`operator_tenant`) holding a permission; everyone else gets 403 (401
/// without credentials). Returns the operator tenant.
struct OperatorCheck: Sendable {
    let tenants: TenantStore
    let operatorSlug: String?

    @discardableResult
    func require(_ permission: Permission, _ context: AppRequestContext) async throws -> TenantID {
        try context.require(permission)
        let tenant = try context.requireTenant()
        guard let operatorSlug, let operatorTenant = try await tenants.find(slug: operatorSlug),
            operatorTenant.id == tenant
        else {
            throw Problem(
                status: .forbidden,
                detail: "the gateway is administered by the operator tenant's admins (operator_tenant)")
        }
        return tenant
    }
}
