import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/api/v1/identity/oauth-clients` as JSON: register (a confidential client's secret is shown once), list, get,
/// revoke (`OAuthClientService` holds the use cases).
struct OAuthClientRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/oauth-clients"
        let service = OAuthClientService(services: services)
        routes.get(RouterPath(base)) { request, context in
            try context.require(.oauthClientsRead)
            return try JSONResponse.make(
                Page(data: try await service.list(by: context.caller(request)), nextCursor: nil))
        }
        routes.post(RouterPath(base)) { request, context in
            let body = try await JSONBody.decode(OAuthClientService.Input.self, from: request, context: context)
            let created = try await service.create(body, by: context.caller(request))
            return try JSONResponse.created(created, location: "\(base)/\(created.client.clientID)")
        }
        routes.get("\(base)/{client_id}") { request, context in
            try context.require(.oauthClientsRead)
            return try JSONResponse.make(
                try await service.find(context.parameters.get("client_id") ?? "", by: context.caller(request)))
        }
        routes.delete("\(base)/{client_id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try context.require(.oauthClientsWrite)
                try await service.revoke(context.parameters.get("client_id") ?? "", by: context.caller(request))
                return JSONResponse.noContent()
            }
        }
    }
}
