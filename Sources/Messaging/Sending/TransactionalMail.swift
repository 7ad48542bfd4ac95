import Foundation
import Kernel
import Platform

/// A request to send one templated message, from the API or from another module's event
/// (`messaging.email.requested`, same fields as the API body).
package struct EmailRequest: Sendable, Codable, Equatable {
    package var template: String
    package var to: String
    package var name: String?
    package var locale: String?
    package var data: [String: JSONValue]?

    static let fieldNames: Set<String> = ["template", "to", "name", "locale", "data"]
}

enum TransactionalMail {
    /// Checks the request, stores the message and enqueues its sending job, all in `tx`. An address that
    /// bounced hard or complained is not mailed (the message is stored as `suppressed`); an unsubscribe only
    /// stops campaigns, not the mail a user asked for.
    static func enqueue(_ request: EmailRequest, now: Date, in tx: Transaction) async throws -> EmailMessage {
        let tenant = try tx.requireTenant()
        var validation = Validation()
        let template = Check.key(request.template, field: "template", into: &validation)
        let address = Check.email(request.to, field: "to", into: &validation)
        let locale = Check.locale(request.locale, field: "locale", into: &validation)
        if let name = request.name, name.count > 200 {
            validation.add(FieldIssue(field: "name", code: "invalid_length", message: "at most 200 characters"))
        }
        try validation.check()
        guard let address else { throw DomainError.validation(validation.issues) }
        guard try await TemplateStore().exists(key: template, in: tx) else {
            throw DomainError.validation([
                FieldIssue(field: "template", code: "not_found", message: "no template \(template)")
            ])
        }
        let suppression = try await SuppressionStore().find(email: address.address, in: tx)
        let blocked = suppression.map { $0.reason == .hardBounce || $0.reason == .complaint } ?? false
        let message = EmailMessage(
            id: .generate(), campaignID: nil, contactID: nil, email: address.address,
            name: request.name ?? address.name,
            locale: locale, templateKey: template, data: .object(request.data ?? [:]),
            status: blocked ? .suppressed : .queued, attempts: 0,
            error: blocked ? "suppressed: \(suppression!.reason.rawValue)" : nil, subject: nil,
            createdAt: now.storedPrecision, sentAt: nil, openedAt: nil, openCount: 0, clickedAt: nil, clickCount: 0,
            unsubscribedAt: nil)
        try await MessageStore().insert([message], in: tx)
        if !blocked {
            try await Jobs.enqueue(TransactionalSender.request(message: message.id, tenant: tenant), in: tx, now: now)
        }
        return message
    }
}

/// Sends the mail other modules ask for with a `messaging.email.requested` event, in the consumer's transaction
/// (the message and its job commit together with the event's processed mark).
struct EmailRequestConsumer: EventConsumer {
    static let eventType = "messaging.email.requested"
    let group = "messaging"
    let eventTypes = [EmailRequestConsumer.eventType]
    let services: MessagingServices

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        let request = try JSONDecoder().decode(EmailRequest.self, from: Data(event.data.text.utf8))
        do {
            _ = try await TransactionalMail.enqueue(request, now: services.clock.now(), in: transaction)
        } catch let error as DomainError {
            // An invalid request will never become valid: log it and let the event count as handled.
            services.logger.error(
                "email request refused", metadata: ["event": "\(event.id)", "reason": "\(error)"])
        }
    }
}
