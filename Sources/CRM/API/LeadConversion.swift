import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit

/// `POST /api/v1/crm/leads/{id}/convert`: a qualified lead becomes a contact, a company and a deal in one
/// transaction, and is marked converted (once: a second conversion is 409).
///
/// The contact is the one with the lead's email if there is one, else a new one from the lead's name, email,
/// phone and job title. The company is `company_id` if given, else the company named like the lead's `company`
/// (any case), else a new one with that name; a lead without a company gets none. The deal (unless `"deal":
/// null`) takes `deal.name` (default: the company's or the lead's name), `deal.value` (required), and
/// `deal.pipeline_id` / `deal.stage_id` (default: the default pipeline's first open stage).
struct LeadConversion: Sendable {
    let services: CRMServices

    struct Body: JSONRequestBody, Sendable {
        let companyID: String?
        /// `nil`: absent; `.null`: no deal.
        let deal: JSONValue?
        static let fieldNames: Set<String> = ["company_id", "deal"]
        enum CodingKeys: String, CodingKey {
            case deal
            case companyID = "company_id"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            companyID = try container.decodeIfPresent(String.self, forKey: .companyID)
            deal = container.contains(.deal) ? try container.decode(JSONValue.self, forKey: .deal) : nil
        }
    }

    struct Converted: Encodable, Sendable {
        let lead: Lead
        let contact: Contact
        let company: Company?
        let deal: Deal?

        enum CodingKeys: String, CodingKey {
            case lead, contact, company, deal
        }

        /// `company` and `deal` are null when none was made or found, not left out.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lead, forKey: .lead)
            try container.encode(contact, forKey: .contact)
            try container.encode(company, forKey: .company)
            try container.encode(deal, forKey: .deal)
        }
    }

    struct ConvertedEvent: Encodable, Sendable {
        let leadID: String
        let contactID: String
        let companyID: String?
        let dealID: String?

        enum CodingKeys: String, CodingKey {
            case leadID = "lead_id"
            case contactID = "contact_id"
            case companyID = "company_id"
            case dealID = "deal_id"
        }
    }

    func register(on routes: RouteRegistrar) {
        routes.post("\(LeadKind.kind.path)/{id}/convert") { request, context in try await convert(request, context) }
    }

    func convert(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsWrite)
        let principal = try context.requirePrincipal()
        let id = try ID<Lead>.path(context, entity: "lead")
        let body = try await JSONBody.decode(Body.self, from: request, context: context)
        var issues: [FieldIssue] = []
        var companyID: ID<Company>?
        if let text = body.companyID {
            companyID = ID(text)
            if companyID == nil {
                issues.append(FieldIssue(field: "company_id", code: "invalid_format", message: "a company id"))
            }
        }
        // `deal` absent: a deal is required to have a value, so it must be given; `null`: no deal.
        var dealFields: [String: JSONValue]?
        switch body.deal {
        case nil:
            issues.append(FieldIssue(field: "deal", code: "required", message: "the deal to make, or null for none"))
        case .null?:
            dealFields = nil
        case .object(let fields)?:
            let allowed: Set<String> = ["name", "value", "pipeline_id", "stage_id", "probability", "expected_close"]
            for key in fields.keys.sorted() where !allowed.contains(key) {
                issues.append(FieldIssue(field: "deal.\(key)", code: "unknown_field", message: "not a field here"))
            }
            dealFields = fields
        default:
            issues.append(FieldIssue(field: "deal", code: "invalid_type", message: "an object or null"))
        }
        if !issues.isEmpty { throw DomainError.validation(issues) }
        if dealFields != nil { try context.require(.crmDealsWrite) }
        let now = services.clock.now().storedPrecision
        let actor = principal.subject
        let owner = principal.kind == .user ? principal.subject : nil
        let trace = context.trace?.header
        let givenCompany = companyID
        let wantedDeal = dealFields
        let converted = try await Self.conflictOnDuplicate {
            try await services.database.audited(
                "crm.lead.converted", target: "lead", id: { $0.lead.id.description },
                details: { result in
                    [
                        "contact_id": .string(result.contact.id.description),
                        "company_id": result.company.map { .string($0.id.description) } ?? .null,
                        "deal_id": result.deal.map { .string($0.id.description) } ?? .null,
                    ]
                }, at: now, request: request, context: context
            ) { tx -> Converted in
                let leads = RecordStore<Lead>()
                // Conversions of one tenant go one at a time: two leads of one new company make one company.
                try await tx.lockTenant("conversions")
                if tx.dialect == .postgres {
                    // Two conversions of one lead at once: the second waits here, then finds it converted.
                    _ = try await tx.sql.raw(
                        """
                        SELECT id FROM crm_leads WHERE tenant_id = \(tx.bind(try tx.requireTenant()))
                          AND id = \(tx.bind(id.rawValue)) FOR UPDATE
                        """
                    ).first()
                }
                guard let stored = try await leads.find(id.rawValue, in: tx) else {
                    throw DomainError.notFound(entity: "lead")
                }
                try request.checkIfMatch(stored.etag)
                if stored.convertedAt != nil {
                    throw DomainError.conflict(
                        "the lead was converted already (to contact \(stored.contactID?.description ?? "?"))")
                }
                guard stored.status == .qualified else {
                    throw DomainError.validation([
                        FieldIssue(
                            field: "status", code: "invalid_transition",
                            message: "only a qualified lead is converted (this one is \(stored.status.rawValue))")
                    ])
                }
                let company = try await self.company(for: stored, given: givenCompany, owner: owner, now: now, in: tx)
                let contact = try await self.contact(
                    for: stored, company: company?.record, owner: owner, now: now, in: tx)
                var deal: Deal?
                if let wantedDeal {
                    deal = try await self.deal(
                        wantedDeal, lead: stored, company: company?.record, contact: contact.record, owner: owner,
                        actor: actor, now: now, in: tx)
                }
                var lead = stored
                lead.convertedAt = now
                lead.contactID = contact.record.id
                lead.companyID = company?.record.id
                lead.dealID = deal?.id
                lead.version = stored.version + 1
                lead.updatedAt = now
                guard try await leads.update(lead, expectedVersion: stored.version, in: tx) else {
                    throw DomainError.conflict("the lead was changed at the same time; retry")
                }
                if let company, company.created {
                    try await CRMEvents.append(
                        "crm.company.created", company.record, entity: "company", id: company.record.uuid,
                        traceparent: trace, in: tx)
                }
                if contact.created {
                    try await CRMEvents.append(
                        "crm.contact.created", contact.record, entity: "contact", id: contact.record.uuid,
                        traceparent: trace, in: tx)
                }
                if let deal {
                    try await CRMEvents.append(
                        "crm.deal.created", deal, entity: "deal", id: deal.uuid, traceparent: trace, in: tx)
                }
                try await CRMEvents.append(
                    "crm.lead.converted",
                    ConvertedEvent(
                        leadID: lead.id.description, contactID: contact.record.id.description,
                        companyID: company?.record.id.description, dealID: deal?.id.description), entity: "lead",
                    id: lead.uuid, traceparent: trace, in: tx)
                return Converted(lead: lead, contact: contact.record, company: company?.record, deal: deal)
            }
        }
        await services.changed(try context.requireTenant())
        return try JSONResponse.make(converted, headers: [.eTag: converted.lead.etag])
    }

    /// A contact or company made by another request between our look-up and our insert: 409, to retry (which then
    /// finds it).
    static func conflictOnDuplicate<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is RecordStore<Contact>.Duplicate {
            throw DomainError.conflict("a contact with the lead's email was made at the same time; retry")
        } catch is RecordStore<Company>.Duplicate {
            throw DomainError.conflict("the company was made at the same time; retry")
        }
    }

    private func company(for lead: Lead, given: ID<Company>?, owner: String?, now: Date, in tx: Transaction)
        async throws -> (record: Company, created: Bool)?
    {
        if let given {
            guard let company = try await RecordStore<Company>().find(given.rawValue, in: tx) else {
                throw DomainError.validation([
                    FieldIssue(field: "company_id", code: "not_found", message: "no such company")
                ])
            }
            return (company, false)
        }
        guard let name = lead.company else { return nil }
        let tenant = try tx.requireTenant()
        if let row = try await tx.sql.raw(
            """
            SELECT * FROM crm_companies WHERE tenant_id = \(tx.bind(tenant)) AND name_key = \(bind: name.lowercased())
            ORDER BY created_at, id LIMIT 1
            """
        ).first() {
            return (try Company.decode(row), false)
        }
        let company = Company(
            id: .generate(), name: name, domain: nil, industry: nil, employees: nil, phone: nil, address: nil,
            ownerID: lead.ownerID ?? owner, tags: [], customFields: [:], notes: nil, version: 1, createdAt: now,
            updatedAt: now)
        try await RecordStore<Company>().insert(company, in: tx)
        return (company, true)
    }

    private func contact(for lead: Lead, company: Company?, owner: String?, now: Date, in tx: Transaction)
        async throws -> (record: Contact, created: Bool)
    {
        let tenant = try tx.requireTenant()
        if let email = lead.email,
            let row = try await tx.sql.raw(
                """
                SELECT * FROM crm_contacts WHERE tenant_id = \(tx.bind(tenant))
                  AND email_key = \(bind: RecordTags.emailKey(email))
                """
            ).first()
        {
            return (try Contact.decode(row), false)
        }
        let contact = Contact(
            id: .generate(), firstName: lead.firstName, lastName: lead.lastName, email: lead.email, phone: lead.phone,
            jobTitle: lead.jobTitle, companyID: company?.id, ownerID: lead.ownerID ?? owner, tags: lead.tags,
            customFields: [:], notes: lead.notes, version: 1, createdAt: now, updatedAt: now)
        try await RecordStore<Contact>().insert(contact, in: tx)
        return (contact, true)
    }

    private func deal(
        _ fields: [String: JSONValue], lead: Lead, company: Company?, contact: Contact, owner: String?, actor: String,
        now: Date, in tx: Transaction
    ) async throws -> Deal {
        var deal = DealKind.kind.blank(lead.ownerID ?? owner, now)
        var fields = fields
        if fields["name"] == nil { fields["name"] = .string(company?.name ?? lead.displayName) }
        do {
            try DealKind.apply(fields, to: &deal, definitions: [], creating: true)
            deal.companyID = company?.id
            deal.contactIDs = [contact.id]
            deal.leadID = lead.id
            try await DealKind.prepare(&deal, before: nil, in: tx)
        } catch DomainError.validation(let issues) {
            throw DomainError.validation(
                issues.map { FieldIssue(field: "deal.\($0.field)", code: $0.code, message: $0.message) })
        }
        try await RecordStore<Deal>().insert(deal, in: tx)
        try await DealHistoryStore().record(deal: deal.id, from: nil, to: deal.stageID, at: now, by: actor, in: tx)
        return deal
    }
}
