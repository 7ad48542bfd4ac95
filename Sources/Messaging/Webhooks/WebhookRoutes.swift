import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/messaging/webhooks`: endpoints and their delivery logs as JSON (`WebhookService` holds the use cases).
struct WebhookRoutes: Sendable {
    let services: MessagingServices

    func register(on routes: RouteRegistrar) {
        let base = "\(MessagingAPI.base)/webhooks"
        let service = WebhookService(services: services)
        routes.get(RouterPath(base)) { request, context in
            try context.require(.messagingWebhooksRead)
            let limit = try request.pageLimit()
            let after = try request.cursorID(WebhookEndpoint.self)
            let endpoints = try await service.list(limit: limit + 1, after: after, by: context.caller(request))
            return try JSONResponse.make(Page(overfetched: endpoints, limit: limit) { $0.id.description })
        }
        routes.post(RouterPath(base)) { request, context in
            let input = try await JSONBody.decode(WebhookService.Input.self, from: request, context: context)
            let created = try await service.create(input, by: context.caller(request))
            return try JSONResponse.created(created, location: "\(base)/\(created.endpoint.id)")
        }
        routes.get("\(base)/{id}") { request, context in
            try context.require(.messagingWebhooksRead)
            let endpoint = try await service.find(Self.id(context), by: context.caller(request))
            return try JSONResponse.make(endpoint, headers: [.eTag: Preconditions.etag(version: endpoint.version)])
        }
        routes.put("\(base)/{id}") { request, context in
            let input = try await JSONBody.decode(WebhookService.Input.self, from: request, context: context)
            try context.require(.messagingWebhooksWrite)
            let endpoint = try await service.update(
                Self.id(context), input,
                precondition: Preconditions.of(request, bodyVersion: input.version),
                by: context.caller(request))
            return try JSONResponse.make(endpoint, headers: [.eTag: Preconditions.etag(version: endpoint.version)])
        }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try context.require(.messagingWebhooksWrite)
                try await service.delete(
                    Self.id(context), precondition: Preconditions.of(request),
                    by: context.caller(request))
                return JSONResponse.noContent()
            }
        }
        routes.post("\(base)/{id}/rotate-secret") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try context.require(.messagingWebhooksWrite)
            return try JSONResponse.make(try await service.rotate(Self.id(context), by: context.caller(request)))
        }
        routes.get("\(base)/{id}/deliveries") { request, context in
            try context.require(.messagingWebhooksRead)
            let id = try Self.id(context)
            let limit = try request.pageLimit()
            let before = try request.cursorID(WebhookDelivery.self)
            var status: WebhookDelivery.Status?
            if let text = request.query("status") {
                guard let parsed = WebhookDelivery.Status(rawValue: text) else {
                    throw Problem(
                        status: .badRequest,
                        detail: "status is one of \(WebhookDelivery.Status.allCases.map(\.rawValue))")
                }
                status = parsed
            }
            let deliveries = try await service.deliveries(
                of: id, status: status, limit: limit + 1, before: before, by: context.caller(request))
            return try JSONResponse.make(Page(overfetched: deliveries, limit: limit) { $0.id.description })
        }
        routes.get("\(base)/{id}/deliveries/{delivery}") { request, context in
            try context.require(.messagingWebhooksRead)
            let endpoint = try Self.id(context)
            return try JSONResponse.make(
                try await service.delivery(Self.delivery(context), of: endpoint, by: context.caller(request)))
        }
        routes.post("\(base)/{id}/deliveries/{delivery}/retry") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try context.require(.messagingWebhooksWrite)
            let endpoint = try Self.id(context)
            return try JSONResponse.make(
                try await service.retry(Self.delivery(context), of: endpoint, by: context.caller(request)),
                status: .accepted)
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<WebhookEndpoint> {
        try ID<WebhookEndpoint>.path(context, entity: "webhook endpoint")
    }

    static func delivery(_ context: AppRequestContext) throws -> ID<WebhookDelivery> {
        try ID<WebhookDelivery>.path(context, "delivery", entity: "delivery")
    }
}
