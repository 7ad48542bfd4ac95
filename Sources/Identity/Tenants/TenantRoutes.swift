import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/api/v1/identity/tenant`: the caller's tenant and its settings as JSON (`TenantService` holds the use cases).
struct TenantRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let path = "\(IdentityAPI.base)/tenant"
        let service = TenantService(services: services)
        routes.get(RouterPath(path)) { request, context in
            try context.require(.tenantRead)
            return try JSONResponse.make(try await service.find(by: context.caller(request)))
        }
        routes.patch(RouterPath(path)) { request, context in
            let body = try await JSONBody.decode(TenantService.Input.self, from: request, context: context)
            return try JSONResponse.make(try await service.update(body, by: context.caller(request)))
        }
    }
}
