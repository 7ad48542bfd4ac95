import Foundation
import Kernel
import Platform

/// Turns a stored message, its template and the tenant's settings into the mail to send.
struct MessageComposer: Sendable {
    let services: MessagingServices

    /// The variables a template sees: the message's own data (the contact's fields for a campaign, the caller's
    /// data for a transactional message), then `email`, `name`, `brand`, and `unsubscribe_url` for campaigns.
    static func variables(
        for message: EmailMessage, settings: MessagingSettings, unsubscribeURL: String?
    ) -> [String: JSONValue] {
        var data: [String: JSONValue] = [:]
        if case .object(let fields) = message.data { data = fields }
        data["email"] = .string(message.email)
        if let name = message.name { data["name"] = .string(name) }
        data["brand"] = .object(
            [
                "name": settings.brand.name.map(JSONValue.string), "color": settings.brand.color.map(JSONValue.string),
                "logo_url": settings.brand.logoURL.map(JSONValue.string),
                "footer": settings.brand.footer.map(JSONValue.string),
                "postal_address": settings.brand.postalAddress.map(JSONValue.string),
            ].compactMapValues { $0 })
        if let unsubscribeURL { data["unsubscribe_url"] = .string(unsubscribeURL) }
        return data
    }

    /// The mail for `message` rendered with `template`. Campaign messages carry tracking and the RFC 8058
    /// one-click unsubscribe headers; transactional ones carry neither.
    func compose(_ message: EmailMessage, template: EmailTemplate, settings: MessagingSettings, tenant: TenantID)
        async throws -> (mail: MailMessage, subject: String)
    {
        let signer = try await services.signer()
        let isCampaign = message.campaignID != nil
        let unsubscribeURL =
            isCampaign
            ? "\(services.baseURL)/messaging/u/\(signer.token(.unsubscribe, tenant: tenant, message: message.id))"
            : nil
        let compiled = try EmailRenderer.compile(subject: template.subject, text: template.text, html: template.html)
        let tracking =
            isCampaign
            ? EmailRenderer.Tracking(base: services.baseURL, signer: signer, tenant: tenant, message: message.id) : nil
        let rendered = EmailRenderer.render(
            compiled, data: Self.variables(for: message, settings: settings, unsubscribeURL: unsubscribeURL),
            tracking: tracking)
        var from = services.mailer.from
        if let address = settings.fromAddress, let parsed = MailAddress.parse(address) {
            from = MailAddress(parsed.address, name: settings.fromName ?? parsed.name)
        } else if let name = settings.fromName {
            from.name = name
        }
        var headers: [(name: String, value: String)] = []
        if let replyTo = settings.replyTo { headers.append(("Reply-To", replyTo)) }
        if let unsubscribeURL {
            headers.append(("List-Unsubscribe", "<\(unsubscribeURL)>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        }
        let mail = MailMessage(
            from: from, to: [MailAddress(message.email, name: message.name)], subject: rendered.subject,
            text: rendered.text, html: rendered.html, headers: headers)
        return (mail, rendered.subject)
    }

    /// What a failed send means for the message: a transient failure is tried again (up to `maxAttempts` tries),
    /// a rejected recipient (550, 551, 553) is a hard bounce, anything else fails the message.
    static func outcome(of error: any Error, attempts: Int, maxAttempts: Int) -> EmailMessage.Status {
        if let mail = error as? MailError {
            if mail.isTransient { return attempts + 1 >= maxAttempts ? .failed : .queued }
            if case .rejected(let code, _) = mail, [550, 551, 553].contains(code) { return .bounced }
            return .failed
        }
        return attempts + 1 >= maxAttempts ? .failed : .queued
    }
}
