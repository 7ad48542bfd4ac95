import Foundation
import Kernel
import Logging
import Platform

/// Sends stored messages and records each outcome on the message (and a hard bounce on the suppression list).
struct Delivery: Sendable {
    let services: MessagingServices
    /// Tries per message before a transient failure fails it.
    static let maxAttempts = 3

    /// Sends `messages` of one tenant one after another, rendering each with its template in its locale.
    /// Returns how many are still queued (transient failures to try again).
    ///
    /// For a campaign's `run`, each message is first claimed for this run, and the run is checked to be the
    /// campaign's current one and the address not suppressed meanwhile (it may have unsubscribed or bounced since the
    /// campaign started): a stale run stops, a suppressed address is recorded as such.
    func send(_ messages: [EmailMessage], tenant: TenantID, run: String? = nil) async throws -> Int {
        let database = services.database
        let settings = try await database.read(tenant: tenant) { tx in try await SettingsStore().get(in: tx) }
        var templates: [String: EmailTemplate] = [:]
        var stillQueued = 0
        for message in messages {
            try Task.checkCancellation()
            if let run, let campaign = message.campaignID {
                let now = services.clock.now()
                let verdict = try await database.write(tenant: tenant) { tx -> String in
                    let current = try await CampaignStore().findRow(id: campaign, in: tx)?.decode(
                        column: "run_token", as: String?.self)
                    guard current == run else { return "stale" }
                    guard try await MessageStore().claim(id: message.id, run: run, now: now, in: tx) else {
                        return "taken"
                    }
                    if try await SuppressionStore().find(email: message.email, in: tx) != nil {
                        try await MessageStore().record(
                            id: message.id, status: .suppressed, subject: nil, error: "suppressed during the campaign",
                            now: now, in: tx)
                        return "suppressed"
                    }
                    return "send"
                }
                if verdict == "stale" { break }
                if verdict != "send" { continue }
            }
            let cacheKey = "\(message.templateKey)|\(message.locale ?? "")"
            if templates[cacheKey] == nil {
                templates[cacheKey] = try await database.read(tenant: tenant) { tx in
                    try await TemplateStore().find(
                        key: message.templateKey, locale: message.locale, fallback: settings.defaultLocale, in: tx)
                }
            }
            let status: EmailMessage.Status
            var subject: String?
            var failure: String?
            if let template = templates[cacheKey] {
                do {
                    let composed = try await MessageComposer(services: services).compose(
                        message, template: template, settings: settings, tenant: tenant)
                    subject = composed.subject
                    try await services.mailer.transport.send(composed.mail)
                    status = .sent
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    status = MessageComposer.outcome(
                        of: error, attempts: message.attempts, maxAttempts: Self.maxAttempts)
                    failure = "\(error)"
                    services.logger.warning(
                        "email not sent",
                        metadata: ["message": "\(message.id)", "status": "\(status.rawValue)", "error": "\(error)"])
                }
            } else {
                status = .failed
                failure = "no template \(message.templateKey)"
            }
            if status == .queued { stillQueued += 1 }
            let now = services.clock.now()
            let (outcome, reason, detail) = (status, failure, subject)
            try await database.write(tenant: tenant) { tx in
                try await MessageStore().record(
                    id: message.id, status: outcome, subject: detail, error: reason, now: now, in: tx)
                if outcome == .bounced {
                    try await SuppressionStore().add(
                        email: message.email, reason: .hardBounce, detail: reason, now: now, in: tx)
                    try await MessagingEvents.append(
                        MessagingEvents.messageBounced,
                        [
                            "id": .string(message.id.description), "email": .string(message.email),
                            "campaign_id": message.campaignID.map { .string($0.description) } ?? .null,
                            "error": reason.map(JSONValue.string) ?? .null,
                        ], aggregate: ("email_message", message.id.description), in: tx)
                }
            }
        }
        return stillQueued
    }
}
