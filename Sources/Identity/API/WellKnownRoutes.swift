import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/.well-known/jwks.json`: the public keys that verify Inopsio tokens, cacheable for a few minutes (a rotated
/// key is published well before tokens signed by it could be seen: verifiers refetch on an unknown `kid`).
struct WellKnownRoutes: Sendable {
    let services: IdentityServices

    func register(on routes: RouteRegistrar) {
        routes.get("/.well-known/jwks.json") { _, _ in
            try JSONResponse.make(
                try await services.keys.keySet(),
                headers: [.cacheControl: "public, max-age=300", .contentType: "application/jwk-set+json"])
        }
    }
}
