import Foundation
import Hummingbird
import Kernel
import Platform

/// `POST /api/v1/crm/public/{tenant_slug}/leads`: a website's contact form, without credentials. The gateway limits
/// it to 5 submissions per 15 minutes per address. A valid submission becomes a lead with source `website` (or adds
/// to the lead with that email or phone), its message in the notes. The tenant's assignment rules pick its owner,
/// who is mailed through Identity (`identity.user_notice.requested`); a lead without an owner goes to the tenant's
/// admins (`identity.admin_notice.requested`). A filled-in
/// honeypot field (`website`, hidden from people) is answered like a success and stores nothing. The answer never
/// says whether the address was known.
struct LeadCapture: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/public/{tenant_slug}/leads"

    struct Body: JSONRequestBody, Sendable {
        let firstName: String
        let lastName: String
        let email: String
        let phone: String?
        let company: String?
        let message: String
        /// The honeypot: a person leaves it empty.
        let website: String?
        static let fieldNames: Set<String> = [
            "first_name", "last_name", "email", "phone", "company", "message", "website",
        ]
        enum CodingKeys: String, CodingKey {
            case email, phone, company, message, website
            case firstName = "first_name"
            case lastName = "last_name"
        }
    }

    /// Addresses of free mail providers: the form asks for a business address.
    static let freeMailDomains: Set<String> = [
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr", "outlook.com",
        "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mail.com", "gmx.com", "gmx.de", "gmx.net",
        "web.de", "yandex.ru", "proton.me", "protonmail.com", "orange.fr", "free.fr", "laposte.net",
    ]

    func register(on routes: RouteRegistrar) {
        routes.post(RouterPath(Self.path)) { request, context in try await capture(request, context) }
    }

    func capture(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let slug = context.parameters.get("tenant_slug"),
            let tenant = try await TenantStore(database: services.database).find(slug: slug), tenant.status == .active
        else { throw DomainError.notFound(entity: "form") }
        let body = try await JSONBody.decode(Body.self, from: request, context: context)
        let received = try JSONResponse.make(["status": "received"], status: .accepted)
        if let website = body.website, !website.isEmpty { return received }
        var validation = Validation()
        let first = Check.text(body.firstName, field: "first_name", max: 100, into: &validation)
        let last = Check.text(body.lastName, field: "last_name", max: 100, into: &validation)
        let address = Check.email(body.email, field: "email", into: &validation)
        if let domain = address?.address.split(separator: "@").last.map({ $0.lowercased() }),
            Self.freeMailDomains.contains(domain)
        {
            validation.add(FieldIssue(field: "email", code: "not_business", message: "a business email address"))
        }
        var phone: String?
        if let text = body.phone, !text.trimmingCharacters(in: .whitespaces).isEmpty {
            phone = PhoneNumber.e164(text)
            if phone == nil {
                validation.add(
                    FieldIssue(
                        field: "phone", code: "invalid_format",
                        message: "an international number in E.164 form, such as +4930123456"))
            }
        }
        let company = body.company.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        if let company, company.count > 200 {
            validation.add(FieldIssue(field: "company", code: "invalid_length", message: "at most 200 characters"))
        }
        let message = body.message.trimmingCharacters(in: .whitespacesAndNewlines)
        if !(10...2_000).contains(message.count) {
            validation.add(FieldIssue(field: "message", code: "invalid_length", message: "10 to 2,000 characters"))
        }
        try validation.check()
        guard let address else { throw DomainError.validation(validation.issues) }
        let number = phone

        let now = services.clock.now().storedPrecision
        let origin = context.origin(request)
        let trace = context.trace?.header
        try await services.database.write(tenant: tenant.id) { tx in
            var lead = Lead(
                id: .generate(), firstName: first, lastName: last, email: address.address, phone: number,
                company: company, jobTitle: nil, source: "website", status: .new, score: 0, ownerID: nil, tags: [],
                customFields: [:], notes: message, version: 1, createdAt: now, updatedAt: now)
            let store = RecordStore<Lead>()
            var action = "crm.lead.created"
            if let duplicate = try await store.duplicate(of: lead, in: tx) {
                // Someone known writes again: the message is added to their lead's notes.
                var existing = duplicate.existing
                let before = existing.fields
                existing.notes =
                    [existing.notes, "\(RFC3339.string(from: now)) (website): \(message)"]
                    .compactMap { $0 }.joined(separator: "\n\n").prefix(10_000).description
                existing.version += 1
                existing.updatedAt = now
                if try await store.update(existing, expectedVersion: duplicate.existing.version, in: tx) {
                    try await CRMEvents.append(
                        "crm.lead.updated",
                        RecordChanged(
                            id: existing.id.description,
                            changes: AuditEntry.changes(before: before, after: existing.fields),
                            merged: true), entity: "lead", id: existing.uuid, traceparent: trace, in: tx)
                }
                lead = existing
                action = "crm.lead.merged"
            } else {
                _ = try await LeadAssignment.assign(&lead, in: tx)
                try await store.insert(lead, in: tx)
                try await CRMEvents.append(
                    "crm.lead.created", lead, entity: "lead", id: lead.uuid, traceparent: trace, in: tx)
            }
            try await AuditTrail().record(
                AuditEntry(
                    action: action, actor: .anonymous, targetType: "lead", targetID: lead.id.description, ip: origin.ip,
                    requestID: origin.requestID, details: ["source": "website"]),
                in: tx, at: now)
            // The lead's owner is mailed (an assignment rule may just have picked one); without one, the admins.
            let subject = "New contact form message from \(first) \(last)"
            let text = """
                \(first) \(last) <\(address.address)>\(company.map { " of \($0)" } ?? "") wrote through the website:

                \(message)

                The lead is \(lead.id) in the CRM.
                """
            if let owner = lead.ownerID {
                try await CRMEvents.append(
                    UserNotice.eventType, UserNotice(userID: owner, subject: subject, text: text), entity: "lead",
                    id: lead.uuid, traceparent: trace, in: tx)
            } else {
                try await CRMEvents.append(
                    AdminNotice.eventType, AdminNotice(subject: subject, text: text), entity: "lead", id: lead.uuid,
                    traceparent: trace, in: tx)
            }
        }
        await services.changed(tenant.id)
        return received
    }
}
