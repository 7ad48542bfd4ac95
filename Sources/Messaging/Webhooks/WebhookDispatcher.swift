import AsyncHTTPClient
import Foundation
import Kernel
import Logging
import NIOCore
import NIOHTTP1
import Platform

/// Turns every event of a tenant into one delivery per subscribed endpoint, in the consumer's transaction (the
/// deliveries and their jobs commit with the event's processed mark, so each event reaches each endpoint once).
struct WebhookFanOut: EventConsumer {
    let group = "messaging.webhooks"
    let eventTypes = ["*"]
    let services: MessagingServices

    /// The body an endpoint receives: Standard Webhooks' `type`, `timestamp` and `data`, plus the event's id.
    struct Body: Encodable {
        let id: String
        let type: String
        let timestamp: String
        let data: JSONDocument
    }

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        try await handle(batch: [event], in: transaction)
    }

    /// The tenant's active endpoints are read once for the batch (a batch is one tenant's events).
    func handle(batch events: [EventEnvelope], in transaction: Transaction) async throws {
        // The messages this module sends about webhooks themselves are not fanned out again.
        let events = events.filter { !$0.type.hasPrefix("identity.admin_notice") }
        guard !events.isEmpty else { return }
        let active = try await WebhookStore().active(in: transaction)
        guard !active.isEmpty else { return }
        let now = services.clock.now().storedPrecision
        let tenant = try transaction.requireTenant()
        for event in events {
            let endpoints = active.filter { $0.accepts(event.type) }
            guard !endpoints.isEmpty else { continue }
            let payload = try JSONDocument.text(
                Body(id: event.id, type: event.type, timestamp: event.time, data: event.data))
            for endpoint in endpoints {
                let delivery = WebhookDelivery(
                    id: .generate(), endpointID: endpoint.id, eventID: event.id, eventType: event.type,
                    payload: payload, status: .pending, attempts: 0, lastStatusCode: nil, lastError: nil,
                    createdAt: now, completedAt: nil)
                if try await WebhookStore().insert(delivery, in: transaction) {
                    try await Jobs.enqueue(
                        WebhookSender.request(
                            delivery: delivery.id, tenant: tenant, maxAttempts: services.webhooks.maxAttempts),
                        in: transaction, now: now)
                }
            }
        }
    }
}

/// The `messaging.webhook` job: one signed POST of one delivery. A failed try throws, so the job queue tries
/// again with its backoff (0.5 s, 2 s, 8 s, 32 s, ... capped); after the last try the delivery fails, and
/// `failureThreshold` failed deliveries in a row disable the endpoint and tell the tenant's admins by email.
struct WebhookSender: JobHandler {
    static let jobName = "messaging.webhook"
    let name = WebhookSender.jobName
    let services: MessagingServices
    let settings: WebhookSettings

    struct Payload: Codable {
        let delivery: String
    }

    static func request(delivery: ID<WebhookDelivery>, tenant: TenantID, maxAttempts: Int = 8) throws
        -> Jobs.Request
    {
        var request = Jobs.Request(
            name: jobName, payload: try JSONDocument(encoding: Payload(delivery: delivery.description)), tenant: tenant)
        request.priority = 2
        request.maxAttempts = maxAttempts
        request.timeout = .seconds(60)
        return request
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        let body = try JSONDecoder().decode(Payload.self, from: Data(payload.text.utf8))
        guard let tenant, let id = ID<WebhookDelivery>(body.delivery) else { return }
        let database = services.database
        let now = services.clock.now()
        let box = services.secrets
        let loaded = try await database.read(tenant: tenant) { tx -> (WebhookDelivery, WebhookEndpoint, [String])? in
            guard let delivery = try await WebhookStore().delivery(id: id, in: tx), delivery.status == .pending,
                let endpoint = try await WebhookStore().find(id: delivery.endpointID, in: tx)
            else { return nil }
            return (
                delivery, endpoint, try await WebhookStore().secrets(id: endpoint.id, now: now, openedWith: box, in: tx)
            )
        }
        guard let (delivery, endpoint, secrets) = loaded else { return }
        let attemptNumber = delivery.attempts + 1
        let final = attemptNumber >= settings.maxAttempts
        guard endpoint.status == .active else {
            try await finish(
                delivery, endpoint,
                attempt: WebhookAttempt(
                    attempt: attemptNumber, statusCode: nil, error: "endpoint disabled", responseBody: nil,
                    durationMilliseconds: 0, attemptedAt: now.storedPrecision), succeeded: false, final: true,
                tenant: tenant)
            return
        }
        let started = ContinuousClock.now
        var statusCode: Int?
        var failure: String?
        var responseBody: String?
        do {
            let response = try await post(delivery, to: endpoint, secrets: secrets)
            statusCode = response.status
            responseBody = response.body
            if !(200..<300).contains(response.status) { failure = "the endpoint answered \(response.status)" }
        } catch {
            failure = "\(error)"
        }
        let elapsed = ContinuousClock.now - started
        let attempt = WebhookAttempt(
            attempt: attemptNumber, statusCode: statusCode, error: failure, responseBody: responseBody,
            durationMilliseconds: Int(elapsed.milliseconds),
            attemptedAt: now.storedPrecision)
        try await finish(delivery, endpoint, attempt: attempt, succeeded: failure == nil, final: final, tenant: tenant)
        if let failure, !final { throw Failure(description: failure) }
    }

    private func finish(
        _ delivery: WebhookDelivery, _ endpoint: WebhookEndpoint, attempt: WebhookAttempt, succeeded: Bool,
        final: Bool, tenant: TenantID
    ) async throws {
        let now = services.clock.now()
        let status: WebhookDelivery.Status = succeeded ? .succeeded : (final ? .failed : .pending)
        let threshold = settings.failureThreshold
        try await services.database.write(tenant: tenant) { tx in
            try await WebhookStore().record(delivery: delivery.id, attempt: attempt, status: status, now: now, in: tx)
            guard status != .pending else { return }
            if try await WebhookStore().settle(
                endpoint: endpoint.id, succeeded: succeeded, threshold: threshold, now: now, in: tx)
            {
                // Identity mails the tenant's admins (modules talk through events, not each other's tables).
                let notice = AdminNotice(
                    subject: "Webhook endpoint disabled: \(endpoint.url)",
                    text: """
                        The webhook endpoint \(endpoint.url) was disabled after \(threshold) deliveries in a row failed.
                        The last error was: \(attempt.error ?? "unknown").

                        Fix the receiver, then enable the endpoint again on the Webhooks page; deliveries that failed can \
                        be sent again from its delivery log.
                        """)
                try await Outbox.append(
                    EventEnvelope(
                        source: "/messaging", type: AdminNotice.eventType, subject: endpoint.id.description,
                        tenant: tenant, traceparent: nil, data: try JSONDocument(encoding: notice)),
                    aggregateType: "webhook_endpoint", aggregateID: endpoint.id.description, in: tx)
                services.logger.warning(
                    "webhook endpoint disabled", metadata: ["endpoint": "\(endpoint.id)", "url": "\(endpoint.url)"])
            }
        }
    }

    struct Answer {
        let status: Int
        let body: String
    }

    /// One signed POST, pinned to the vetted address, redirects not followed, the answer read up to 4 KiB.
    private func post(_ delivery: WebhookDelivery, to endpoint: WebhookEndpoint, secrets: [String]) async throws
        -> Answer
    {
        let url = try OutboundGuard.checkForm(endpoint.url)
        let address = try await OutboundGuard(allowed: settings.allowedNetworks).vet(url)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(settings.timeoutSeconds)))
        if let host = url.host { configuration.dnsOverride = [host: address] }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let body = Data(delivery.payload.utf8)
            let timestamp = Int64(services.clock.now().timeIntervalSince1970)
            var request = HTTPClientRequest(url: endpoint.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "Inopsio-Webhooks/1")
            request.headers.add(name: "webhook-id", value: delivery.eventID)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: WebhookSigner.signature(id: delivery.eventID, timestamp: timestamp, body: body, secrets: secrets)
            )
            request.body = .bytes(ByteBuffer(data: body))
            let response = try await client.execute(request, timeout: .seconds(settings.timeoutSeconds))
            // The first 4 KiB of the answer are kept for the log; the rest is read and dropped.
            var kept = ByteBuffer()
            for try await chunk in response.body where kept.readableBytes < 4_096 {
                var chunk = chunk
                kept.writeBuffer(&chunk)
            }
            let text = kept.readString(length: min(kept.readableBytes, 4_096)) ?? ""
            try await client.shutdown()
            return Answer(status: Int(response.status.code), body: text)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// How webhook deliveries behave in this installation.
package struct WebhookSettings: Sendable {
    /// Networks deliveries may reach despite being loopback, link-local or private (`webhook_allowed_networks`).
    package var allowedNetworks: [IPRange] = []
    /// Tries per delivery.
    package var maxAttempts = 8
    /// Failed deliveries in a row that disable an endpoint.
    package var failureThreshold = 5
    package var timeoutSeconds: Int64 = 15

    package init() {}
}
