import Foundation
import Hummingbird
import Kernel
import Platform

/// Webhook endpoints: create (the secret is shown then and on rotation), list, get, update (re-enable), delete,
/// rotate the secret, and the delivery log with each try's answer and a retry.
struct WebhookRoutes: Sendable {
    let services: MessagingServices

    struct Body: JSONRequestBody {
        let url: String
        let description: String?
        let eventTypes: [String]
        let status: WebhookEndpoint.Status?
        let version: Int?
        static let fieldNames: Set<String> = ["url", "description", "event_types", "status", "version"]
        enum CodingKeys: String, CodingKey {
            case url, description, status, version
            case eventTypes = "event_types"
        }
    }

    struct WithSecret: Encodable {
        let endpoint: WebhookEndpoint
        let secret: String

        func encode(to encoder: any Encoder) throws {
            try endpoint.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(secret, forKey: .secret)
        }
        enum Keys: String, CodingKey { case secret }
    }

    struct DeliveryDetail: Encodable {
        let delivery: WebhookDelivery
        let attempts: [WebhookAttempt]

        func encode(to encoder: any Encoder) throws {
            try delivery.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(attempts, forKey: .attempts)
        }
        enum Keys: String, CodingKey { case attempts }
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(MessagingAPI.base)/webhooks"
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.post(RouterPath(base)) { request, context in
            let body = try await JSONBody.decode(Body.self, from: request, context: context)
            let created = try await create(body, request, context)
            return try JSONResponse.created(created, location: "\(base)/\(created.endpoint.id)")
        }
        routes.get("\(base)/{id}") { _, context in
            let endpoint = try await find(context)
            return try JSONResponse.make(endpoint, headers: [.eTag: Preconditions.etag(version: endpoint.version)])
        }
        routes.put("\(base)/{id}") { request, context in
            let body = try await JSONBody.decode(Body.self, from: request, context: context)
            let endpoint = try await update(body, request, context)
            return try JSONResponse.make(endpoint, headers: [.eTag: Preconditions.etag(version: endpoint.version)])
        }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
        routes.post("\(base)/{id}/rotate-secret") { request, context in
            try await JSONBody.requireNone(request, context: context)
            return try JSONResponse.make(try await rotate(request, context))
        }
        routes.get("\(base)/{id}/deliveries") { request, context in try await deliveries(request, context) }
        routes.get("\(base)/{id}/deliveries/{delivery}") { _, context in
            try JSONResponse.make(try await delivery(context))
        }
        routes.post("\(base)/{id}/deliveries/{delivery}/retry") { request, context in
            try await JSONBody.requireNone(request, context: context)
            return try JSONResponse.make(try await retry(request, context), status: .accepted)
        }
    }

    /// Checks a body; the URL must be http(s) and, unless the operator allows its network, must not resolve to a
    /// loopback, link-local or private address.
    func validate(_ body: Body) async throws -> (URL, String, [String]) {
        var validation = Validation()
        var url: URL?
        do {
            let checked = try OutboundGuard.checkForm(body.url)
            _ = try await OutboundGuard(allowed: services.webhooks.allowedNetworks).vet(checked)
            url = checked
        } catch {
            validation.add(FieldIssue(field: "url", code: "invalid_value", message: error.description))
        }
        let description = body.description ?? ""
        if description.count > 500 {
            validation.add(FieldIssue(field: "description", code: "invalid_length", message: "at most 500 characters"))
        }
        let types = body.eventTypes.map { $0.trimmingCharacters(in: .whitespaces) }
        if types.isEmpty || types.count > 100 {
            validation.add(FieldIssue(field: "event_types", code: "invalid_length", message: "1 to 100 event types"))
        }
        for (index, type) in types.enumerated() {
            let valid =
                type == "*"
                || ((1...200).contains(type.count)
                    && type.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-*".contains($0)) })
            if !valid {
                validation.add(
                    FieldIssue(
                        field: "event_types[\(index)]", code: "invalid_format",
                        message: "an event type (crm.lead.created), a prefix (crm.*) or *"))
            }
        }
        try validation.check()
        return (url!, description, Array(Set(types)).sorted())
    }

    func create(_ body: Body, _ request: Request, _ context: AppRequestContext) async throws -> WithSecret {
        try context.require(.messagingWebhooksWrite)
        let principal = try context.requirePrincipal()
        let (url, description, types) = try await validate(body)
        let now = services.clock.now().storedPrecision
        let endpoint = WebhookEndpoint(
            id: .generate(), url: url.absoluteString, description: description, eventTypes: types,
            status: body.status ?? .active, disabledReason: nil, failureStreak: 0, createdBy: principal.subject,
            version: 1, createdAt: now, updatedAt: now)
        let secret = WebhookSigner.newSecret()
        let secrets = services.secrets
        try await services.audited(
            "messaging.webhook.created", target: "webhook_endpoint", id: { _ in endpoint.id.description },
            details: ["url": .string(endpoint.url)], request: request, context: context
        ) { tx in try await WebhookStore().insert(endpoint, secret: secret, sealedWith: secrets, in: tx) }
        return WithSecret(endpoint: endpoint, secret: secret)
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingWebhooksRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorID(WebhookEndpoint.self)
        let endpoints = try await services.database.read(tenant: tenant) { tx in
            try await WebhookStore().list(limit: limit + 1, after: after, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: endpoints, limit: limit) { $0.id.description })
    }

    func find(_ context: AppRequestContext) async throws -> WebhookEndpoint {
        try context.require(.messagingWebhooksRead)
        let tenant = try context.requireTenant()
        let id = try ID<WebhookEndpoint>.path(context, entity: "webhook endpoint")
        guard
            let endpoint = try await services.database.read(
                tenant: tenant, { tx in try await WebhookStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "webhook endpoint") }
        return endpoint
    }

    func update(_ body: Body, _ request: Request, _ context: AppRequestContext) async throws -> WebhookEndpoint {
        try context.require(.messagingWebhooksWrite)
        let id = try ID<WebhookEndpoint>.path(context, entity: "webhook endpoint")
        let headers = request.headers
        let (url, description, types) = try await validate(body)
        let now = services.clock.now().storedPrecision
        return try await services.audited(
            "messaging.webhook.updated", target: "webhook_endpoint", id: { _ in id.description }, request: request,
            context: context
        ) { tx -> WebhookEndpoint in
            guard var endpoint = try await WebhookStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "webhook endpoint")
            }
            try Preconditions.check(headers, bodyVersion: body.version, current: endpoint.version)
            let expected = endpoint.version
            endpoint.url = url.absoluteString
            endpoint.description = description
            endpoint.eventTypes = types
            if let status = body.status, status != endpoint.status {
                endpoint.status = status
                endpoint.disabledReason = status == .disabled ? "disabled by hand" : nil
                endpoint.failureStreak = 0
            }
            endpoint.updatedAt = now
            guard try await WebhookStore().update(endpoint, expectedVersion: expected, in: tx) else {
                throw Preconditions.failed(current: Preconditions.etag(version: expected + 1))
            }
            endpoint.version = expected + 1
            return endpoint
        }
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingWebhooksWrite)
        let id = try ID<WebhookEndpoint>.path(context, entity: "webhook endpoint")
        let headers = request.headers
        try await services.audited(
            "messaging.webhook.deleted", target: "webhook_endpoint", id: { _ in id.description }, request: request,
            context: context
        ) { tx in
            guard let existing = try await WebhookStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "webhook endpoint")
            }
            try Preconditions.check(headers, current: existing.version)
            guard try await WebhookStore().delete(id: id, in: tx) else {
                throw DomainError.notFound(entity: "webhook endpoint")
            }
        }
        return JSONResponse.noContent()
    }

    /// A new secret; deliveries carry signatures with both the new and the old one for 24 hours, so receivers can
    /// switch without losing a delivery.
    func rotate(_ request: Request, _ context: AppRequestContext) async throws -> WithSecret {
        try context.require(.messagingWebhooksWrite)
        let id = try ID<WebhookEndpoint>.path(context, entity: "webhook endpoint")
        let secret = WebhookSigner.newSecret()
        let now = services.clock.now().storedPrecision
        let secrets = services.secrets
        let endpoint = try await services.audited(
            "messaging.webhook.secret_rotated", target: "webhook_endpoint", id: { _ in id.description },
            request: request, context: context
        ) { tx -> WebhookEndpoint in
            guard
                try await WebhookStore().rotate(
                    id: id, to: secret, sealedWith: secrets, overlapUntil: now.addingTimeInterval(24 * 3600), now: now,
                    in: tx),
                let endpoint = try await WebhookStore().find(id: id, in: tx)
            else { throw DomainError.notFound(entity: "webhook endpoint") }
            return endpoint
        }
        return WithSecret(endpoint: endpoint, secret: secret)
    }

    func deliveries(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let endpoint = try await find(context)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let before = try request.cursorID(WebhookDelivery.self)
        var status: WebhookDelivery.Status?
        if let text = request.query("status") {
            guard let parsed = WebhookDelivery.Status(rawValue: text) else {
                throw Problem(
                    status: .badRequest, detail: "status is one of \(WebhookDelivery.Status.allCases.map(\.rawValue))")
            }
            status = parsed
        }
        let filter = status
        let deliveries = try await services.database.read(tenant: tenant) { tx in
            try await WebhookStore().deliveries(
                endpoint: endpoint.id, status: filter, limit: limit + 1, before: before, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: deliveries, limit: limit) { $0.id.description })
    }

    func delivery(_ context: AppRequestContext) async throws -> DeliveryDetail {
        let endpoint = try await find(context)
        let tenant = try context.requireTenant()
        let id = try ID<WebhookDelivery>.path(context, "delivery", entity: "delivery")
        let found = try await services.database.read(tenant: tenant) { tx -> DeliveryDetail? in
            guard let delivery = try await WebhookStore().delivery(id: id, in: tx), delivery.endpointID == endpoint.id
            else { return nil }
            return DeliveryDetail(delivery: delivery, attempts: try await WebhookStore().attempts(delivery: id, in: tx))
        }
        guard let found else { throw DomainError.notFound(entity: "delivery") }
        return found
    }

    /// Sends a finished delivery again (a failed one after the receiver is fixed, or a succeeded one on request).
    func retry(_ request: Request, _ context: AppRequestContext) async throws -> WebhookDelivery {
        try context.require(.messagingWebhooksWrite)
        let endpoint = try await find(context)
        let tenant = try context.requireTenant()
        let id = try ID<WebhookDelivery>.path(context, "delivery", entity: "delivery")
        let now = services.clock.now()
        let maxAttempts = services.webhooks.maxAttempts
        return try await services.audited(
            "messaging.webhook.delivery_retried", target: "webhook_delivery", id: { _ in id.description },
            request: request, context: context
        ) { tx -> WebhookDelivery in
            guard var delivery = try await WebhookStore().delivery(id: id, in: tx), delivery.endpointID == endpoint.id
            else { throw DomainError.notFound(entity: "delivery") }
            guard delivery.status != .pending else {
                throw DomainError.conflict("this delivery is still being tried")
            }
            guard endpoint.status == .active else {
                throw DomainError.conflict("enable the endpoint first")
            }
            try await WebhookStore().reopen(id: id, in: tx)
            try await Jobs.enqueue(
                WebhookSender.request(delivery: id, tenant: tenant, maxAttempts: maxAttempts), in: tx, now: now)
            delivery.status = .pending
            return delivery
        }
    }
}
