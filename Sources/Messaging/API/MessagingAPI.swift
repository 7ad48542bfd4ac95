import Foundation
import Hummingbird
import Kernel
import Platform

/// The JSON API under `/api/v1/messaging/`.
struct MessagingAPI: Sendable {
    let services: MessagingServices
    static let base = "/api/v1/messaging"

    func register(on routes: RouteRegistrar) {
        TemplateRoutes(services: services).register(on: routes)
        AudienceRoutes(services: services).register(on: routes)
        CampaignRoutes(services: services).register(on: routes)
        MessageRoutes(services: services).register(on: routes)
        WebhookRoutes(services: services).register(on: routes)
        LiveRoutes(services: services, hub: services.hub).register(on: routes)
        OperationsRoutes(services: services).register(on: routes)
        MessagingOpenAPI.register(on: routes)
    }
}

extension MessagingServices {
    /// Runs `body` in a write transaction of the request's tenant and records `action` in the audit log with it.
    func audited<T: Sendable>(
        _ action: String, target: String, id: @escaping @Sendable (T) -> String?, details: [String: JSONValue] = [:],
        request: Request, context: AppRequestContext, _ body: @escaping @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await database.audited(
            action, target: target, id: id, details: { _ in details }, at: clock.now(), request: request,
            context: context, body)
    }
}
