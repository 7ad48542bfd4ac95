import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/api/v1/identity/providers` as JSON: add, list, get, delete (`ProviderService` holds the use cases).
struct ProviderRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/providers"
        let service = ProviderService(services: services)
        routes.get(RouterPath(base)) { request, context in
            try context.require(.providersRead)
            return try JSONResponse.make(
                Page(data: try await service.list(by: context.caller(request)), nextCursor: nil))
        }
        routes.post(RouterPath(base)) { request, context in
            let body = try await JSONBody.decode(ProviderService.Input.self, from: request, context: context)
            let provider = try await service.create(body, by: context.caller(request))
            return try JSONResponse.created(provider, location: "\(base)/\(provider.id)")
        }
        routes.get("\(base)/{id}") { request, context in
            try context.require(.providersRead)
            return try JSONResponse.make(try await service.find(Self.id(context), by: context.caller(request)))
        }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try context.require(.providersWrite)
                try await service.delete(Self.id(context), by: context.caller(request))
                return JSONResponse.noContent()
            }
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<IdentityProvider> {
        try ID<IdentityProvider>.path(context, entity: "identity provider")
    }
}
