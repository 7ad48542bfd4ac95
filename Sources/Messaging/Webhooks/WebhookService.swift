import Foundation
import Kernel
import Platform

/// Webhook endpoints' use cases, for the API and the pages: create (the secret is shown then and on rotation),
/// list, find, change (re-enable), delete, rotate the secret, and the delivery log with a retry.
struct WebhookService: Sendable {
    let services: MessagingServices

    /// An endpoint's fields (the JSON body of `POST`/`PUT /webhooks`; `version` optional, as `If-Match`).
    struct Input: JSONRequestBody {
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

    /// An endpoint with its secret, shown once (on creation and rotation).
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

    /// A delivery with each try's answer.
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

    /// Checks an input; the URL must be http(s) and, unless the operator allows its network, must not resolve to
    /// a loopback, link-local or private address.
    func validate(_ input: Input) async throws -> (URL, String, [String]) {
        var validation = Validation()
        var url: URL?
        do {
            let checked = try OutboundGuard.checkForm(input.url)
            _ = try await OutboundGuard(allowed: services.webhooks.allowedNetworks).vet(checked)
            url = checked
        } catch {
            validation.add(FieldIssue(field: "url", code: "invalid_value", message: error.description))
        }
        let description = input.description ?? ""
        if description.count > 500 {
            validation.add(FieldIssue(field: "description", code: "invalid_length", message: "at most 500 characters"))
        }
        let types = input.eventTypes.map { $0.trimmingCharacters(in: .whitespaces) }
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

    func create(_ input: Input, by caller: Caller) async throws -> WithSecret {
        try caller.require(.messagingWebhooksWrite)
        let (url, description, types) = try await validate(input)
        let now = services.clock.now().storedPrecision
        let endpoint = WebhookEndpoint(
            id: .generate(), url: url.absoluteString, description: description, eventTypes: types,
            status: input.status ?? .active, disabledReason: nil, failureStreak: 0,
            createdBy: caller.principal.subject, version: 1, createdAt: now, updatedAt: now)
        let secret = WebhookSigner.newSecret()
        let secrets = services.secrets
        try await services.database.audited(
            "messaging.webhook.created", target: "webhook_endpoint", id: { _ in endpoint.id.description },
            details: { _ in ["url": .string(endpoint.url)] }, at: services.clock.now(), by: caller
        ) { tx in try await WebhookStore().insert(endpoint, secret: secret, sealedWith: secrets, in: tx) }
        return WithSecret(endpoint: endpoint, secret: secret)
    }

    /// A page of endpoints.
    func list(limit: Int, after: ID<WebhookEndpoint>?, by caller: Caller) async throws -> [WebhookEndpoint] {
        try caller.require(.messagingWebhooksRead)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await WebhookStore().list(limit: limit, after: after, in: tx)
        }
    }

    func find(_ id: ID<WebhookEndpoint>, by caller: Caller) async throws -> WebhookEndpoint {
        try caller.require(.messagingWebhooksRead)
        guard
            let endpoint = try await services.database.read(
                tenant: caller.tenant, { tx in try await WebhookStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "webhook endpoint") }
        return endpoint
    }

    /// Changes an endpoint; `precondition` checks the stored version (the request's `If-Match` or body
    /// `version`).
    func update(
        _ id: ID<WebhookEndpoint>, _ input: Input, precondition: @escaping @Sendable (Int) throws -> Void,
        by caller: Caller
    ) async throws -> WebhookEndpoint {
        try caller.require(.messagingWebhooksWrite)
        let (url, description, types) = try await validate(input)
        let now = services.clock.now().storedPrecision
        return try await services.database.audited(
            "messaging.webhook.updated", target: "webhook_endpoint", id: { _ in id.description },
            at: services.clock.now(), by: caller
        ) { tx -> WebhookEndpoint in
            guard var endpoint = try await WebhookStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "webhook endpoint")
            }
            try precondition(endpoint.version)
            let expected = endpoint.version
            endpoint.url = url.absoluteString
            endpoint.description = description
            endpoint.eventTypes = types
            if let status = input.status, status != endpoint.status {
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

    /// Deletes an endpoint; `precondition` as for `update`.
    func delete(
        _ id: ID<WebhookEndpoint>, precondition: @escaping @Sendable (Int) throws -> Void, by caller: Caller
    ) async throws {
        try caller.require(.messagingWebhooksWrite)
        try await services.database.audited(
            "messaging.webhook.deleted", target: "webhook_endpoint", id: { _ in id.description },
            at: services.clock.now(), by: caller
        ) { tx in
            guard let existing = try await WebhookStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "webhook endpoint")
            }
            try precondition(existing.version)
            guard try await WebhookStore().delete(id: id, in: tx) else {
                throw DomainError.notFound(entity: "webhook endpoint")
            }
        }
    }

    /// A new secret; deliveries carry signatures with both the new and the old one for 24 hours, so receivers can
    /// switch without losing a delivery.
    func rotate(_ id: ID<WebhookEndpoint>, by caller: Caller) async throws -> WithSecret {
        try caller.require(.messagingWebhooksWrite)
        let secret = WebhookSigner.newSecret()
        let now = services.clock.now().storedPrecision
        let secrets = services.secrets
        let endpoint = try await services.database.audited(
            "messaging.webhook.secret_rotated", target: "webhook_endpoint", id: { _ in id.description },
            at: services.clock.now(), by: caller
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

    /// A page of the endpoint's deliveries, newest first.
    func deliveries(
        of id: ID<WebhookEndpoint>, status: WebhookDelivery.Status?, limit: Int, before: ID<WebhookDelivery>?,
        by caller: Caller
    ) async throws -> [WebhookDelivery] {
        let endpoint = try await find(id, by: caller)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await WebhookStore().deliveries(
                endpoint: endpoint.id, status: status, limit: limit, before: before, in: tx)
        }
    }

    func delivery(_ id: ID<WebhookDelivery>, of endpointID: ID<WebhookEndpoint>, by caller: Caller) async throws
        -> DeliveryDetail
    {
        let endpoint = try await find(endpointID, by: caller)
        let found = try await services.database.read(tenant: caller.tenant) { tx -> DeliveryDetail? in
            guard let delivery = try await WebhookStore().delivery(id: id, in: tx), delivery.endpointID == endpoint.id
            else { return nil }
            return DeliveryDetail(delivery: delivery, attempts: try await WebhookStore().attempts(delivery: id, in: tx))
        }
        guard let found else { throw DomainError.notFound(entity: "delivery") }
        return found
    }

    /// Sends a finished delivery again (a failed one after the receiver is fixed, or a succeeded one on request).
    func retry(_ id: ID<WebhookDelivery>, of endpointID: ID<WebhookEndpoint>, by caller: Caller) async throws
        -> WebhookDelivery
    {
        try caller.require(.messagingWebhooksWrite)
        let endpoint = try await find(endpointID, by: caller)
        let now = services.clock.now()
        let maxAttempts = services.webhooks.maxAttempts
        return try await services.database.audited(
            "messaging.webhook.delivery_retried", target: "webhook_delivery", id: { _ in id.description }, at: now,
            by: caller
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
                WebhookSender.request(delivery: id, tenant: caller.tenant, maxAttempts: maxAttempts), in: tx, now: now)
            delivery.status = .pending
            return delivery
        }
    }
}
