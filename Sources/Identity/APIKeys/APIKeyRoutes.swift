import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/api/v1/identity/api-keys` as JSON: create (secret shown once), list, get, revoke (`APIKeyService` holds the
/// use cases).
struct APIKeyRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/api-keys"
        let service = APIKeyService(services: services)
        routes.get(RouterPath(base)) { request, context in
            try context.require(.apiKeysRead)
            let limit = try request.pageLimit()
            let before = try request.cursorPosition().flatMap(ID<APIKey>.init)
            let keys = try await service.list(
                limit: limit + 1, before: before, includeRevoked: request.query("include_revoked") == "true",
                by: context.caller(request))
            return try JSONResponse.make(Page(overfetched: keys, limit: limit) { $0.id.description })
        }
        routes.post(RouterPath(base)) { request, context in
            let input = try await JSONBody.decode(APIKeyService.Input.self, from: request, context: context)
            let created = try await service.create(input, by: context.caller(request))
            return try JSONResponse.created(created, location: "\(base)/\(created.key.id)")
        }
        routes.get("\(base)/{id}") { request, context in
            try context.require(.apiKeysRead)
            return try JSONResponse.make(try await service.find(Self.id(context), by: context.caller(request)))
        }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try context.require(.apiKeysWrite)
                try await service.revoke(Self.id(context), by: context.caller(request))
                return JSONResponse.noContent()
            }
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<APIKey> {
        try ID<APIKey>.path(context, entity: "API key")
    }
}
