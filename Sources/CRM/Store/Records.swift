import Foundation
import Kernel
import Platform
import SQLKit

extension Lead: CRMRecord {
    static let entity = CustomField.Entity.lead
    static let uniqueKeys: [(column: String, field: String, value: @Sendable (Lead) -> String?)] = [
        ("email_key", "email", { $0.email.map(RecordTags.emailKey) }), ("phone", "phone", { $0.phone }),
    ]
    var uuid: UUID { id.rawValue }
    var nameKey: String { RecordTags.nameKey(first: firstName, last: lastName) }
    var sortScore: Int { score }
    var searchText: SearchText {
        SearchText(
            title: nameKey.isEmpty ? (email ?? "") : RecordTags.displayName(first: firstName, last: lastName),
            subtitle: [email, company], body: [jobTitle, phone, source, tags.joined(separator: " "), notes])
    }

    func columns(in tx: Transaction) throws -> [(String, any SQLExpression)] {
        [
            ("first_name", SQLBind(firstName)), ("last_name", SQLBind(lastName)), ("name_key", SQLBind(nameKey)),
            ("email", SQLBind(email)), ("email_key", SQLBind(email.map(RecordTags.emailKey))), ("phone", SQLBind(phone)),
            ("company", SQLBind(company)), ("job_title", SQLBind(jobTitle)), ("source", SQLBind(source)),
            ("status", SQLBind(status.rawValue)), ("score", SQLBind(score)), ("owner_id", SQLBind(ownerID)),
            ("tags", SQLBind(try JSONDocument.text(tags))), ("custom_fields", SQLBind(try JSONDocument.text(customFields))),
            ("notes", SQLBind(notes)), ("converted_at", SQLBind(convertedAt?.epochMilliseconds)),
            ("contact_id", contactID.map { tx.bind($0.rawValue) } ?? SQLLiteral.null),
            ("company_id", companyID.map { tx.bind($0.rawValue) } ?? SQLLiteral.null),
            ("deal_id", dealID.map { tx.bind($0.rawValue) } ?? SQLLiteral.null),
        ]
    }

    static func decode(_ row: Row) throws -> Lead {
        Lead(
            id: ID(try row.uuid("id")), firstName: try row.optionalString("first_name"),
            lastName: try row.optionalString("last_name"),
            email: try row.optionalString("email"),
            phone: try row.optionalString("phone"),
            company: try row.optionalString("company"),
            jobTitle: try row.optionalString("job_title"),
            source: try row.string("source"),
            status: LeadStatus(rawValue: try row.string("status")) ?? .new,
            score: try row.int("score"),
            ownerID: try row.optionalString("owner_id"), tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.optionalString("notes"),
            convertedAt: try row.optionalDate("converted_at"),
            contactID: try row.optionalUUID("contact_id").map(ID.init),
            companyID: try row.optionalUUID("company_id").map(ID.init),
            dealID: try row.optionalUUID("deal_id").map(ID.init),
            version: try row.int("version"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}

extension Company: CRMRecord {
    static let entity = CustomField.Entity.company
    static let uniqueKeys: [(column: String, field: String, value: @Sendable (Company) -> String?)] = [
        ("domain", "domain", { $0.domain })
    ]
    var uuid: UUID { id.rawValue }
    var nameKey: String { name.lowercased() }
    var searchText: SearchText {
        SearchText(title: name, subtitle: [domain, industry], body: [phone, address, tags.joined(separator: " "), notes])
    }

    func columns(in tx: Transaction) throws -> [(String, any SQLExpression)] {
        [
            ("name", SQLBind(name)), ("name_key", SQLBind(nameKey)), ("domain", SQLBind(domain)),
            ("industry", SQLBind(industry)), ("employees", SQLBind(employees)), ("phone", SQLBind(phone)),
            ("address", SQLBind(address)), ("owner_id", SQLBind(ownerID)), ("tags", SQLBind(try JSONDocument.text(tags))),
            ("custom_fields", SQLBind(try JSONDocument.text(customFields))), ("notes", SQLBind(notes)),
        ]
    }

    static func decode(_ row: Row) throws -> Company {
        Company(
            id: ID(try row.uuid("id")), name: try row.string("name"),
            domain: try row.optionalString("domain"),
            industry: try row.optionalString("industry"),
            employees: try row.optionalInt("employees"),
            phone: try row.optionalString("phone"),
            address: try row.optionalString("address"),
            ownerID: try row.optionalString("owner_id"), tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.optionalString("notes"),
            version: try row.int("version"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}

extension Contact: CRMRecord {
    static let entity = CustomField.Entity.contact
    static let uniqueKeys: [(column: String, field: String, value: @Sendable (Contact) -> String?)] = [
        ("email_key", "email", { $0.email.map(RecordTags.emailKey) })
    ]
    var uuid: UUID { id.rawValue }
    var nameKey: String { RecordTags.nameKey(first: firstName, last: lastName) }
    var searchText: SearchText {
        SearchText(
            title: nameKey.isEmpty ? (email ?? "") : RecordTags.displayName(first: firstName, last: lastName),
            subtitle: [email, jobTitle], body: [phone, tags.joined(separator: " "), notes])
    }

    func columns(in tx: Transaction) throws -> [(String, any SQLExpression)] {
        [
            ("first_name", SQLBind(firstName)), ("last_name", SQLBind(lastName)), ("name_key", SQLBind(nameKey)),
            ("email", SQLBind(email)),
            ("email_key", SQLBind(email.map(RecordTags.emailKey))), ("phone", SQLBind(phone)),
            ("job_title", SQLBind(jobTitle)), ("company_id", companyID.map { tx.bind($0.rawValue) } ?? SQLLiteral.null),
            ("owner_id", SQLBind(ownerID)), ("tags", SQLBind(try JSONDocument.text(tags))),
            ("custom_fields", SQLBind(try JSONDocument.text(customFields))), ("notes", SQLBind(notes)),
        ]
    }

    static func decode(_ row: Row) throws -> Contact {
        Contact(
            id: ID(try row.uuid("id")), firstName: try row.optionalString("first_name"),
            lastName: try row.optionalString("last_name"),
            email: try row.optionalString("email"),
            phone: try row.optionalString("phone"),
            jobTitle: try row.optionalString("job_title"),
            companyID: try row.optionalUUID("company_id").map(ID.init),
            ownerID: try row.optionalString("owner_id"), tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.optionalString("notes"),
            version: try row.int("version"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}

extension Deal: CRMRecord {
    static let entity = CustomField.Entity.deal
    /// The lead a deal comes from is unique too, but as a UUID column it is checked by the conversion itself.
    static let uniqueKeys: [(column: String, field: String, value: @Sendable (Deal) -> String?)] = []
    var uuid: UUID { id.rawValue }
    var nameKey: String { name.lowercased() }
    var searchText: SearchText {
        SearchText(
            title: name, subtitle: ["\(value.currency.code) \(value.amountMinor)"], body: [tags.joined(separator: " "), notes])
    }

    func columns(in tx: Transaction) throws -> [(String, any SQLExpression)] {
        func uuid(_ value: UUID?) -> any SQLExpression { value.map { tx.bind($0) } ?? SQLLiteral.null }
        return [
            ("name", SQLBind(name)), ("name_key", SQLBind(nameKey)), ("pipeline_id", tx.bind(pipelineID.rawValue)),
            ("stage_id", tx.bind(stageID.rawValue)), ("status", SQLBind(status.rawValue)),
            ("amount_minor", SQLBind(value.amountMinor)), ("currency", SQLBind(value.currency.code)),
            ("probability", SQLBind(probability)), ("expected_close", SQLBind(expectedClose)),
            ("owner_id", SQLBind(ownerID)), ("company_id", uuid(companyID?.rawValue)),
            ("contact_ids", SQLBind(try JSONDocument.text(contactIDs))), ("lead_id", uuid(leadID?.rawValue)),
            ("close_reason", SQLBind(closeReason)), ("closed_at", SQLBind(closedAt?.epochMilliseconds)),
            ("tags", SQLBind(try JSONDocument.text(tags))), ("custom_fields", SQLBind(try JSONDocument.text(customFields))),
            ("notes", SQLBind(notes)), ("stage_entered_at", SQLBind(stageEnteredAt.epochMilliseconds)),
        ]
    }

    static func decode(_ row: Row) throws -> Deal {
        guard let currency = CurrencyCode(try row.string("currency")) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "stored currency"))
        }
        return Deal(
            id: ID(try row.uuid("id")), name: try row.string("name"),
            pipelineID: ID(try row.uuid("pipeline_id")), stageID: ID(try row.uuid("stage_id")),
            status: Deal.Status(rawValue: try row.string("status")) ?? .open,
            value: Money(amountMinor: try row.int64("amount_minor"), currency: currency),
            probability: try row.int("probability"),
            expectedClose: try row.optionalString("expected_close"),
            ownerID: try row.optionalString("owner_id"),
            companyID: try row.optionalUUID("company_id").map(ID.init),
            contactIDs: try row.json("contact_ids", as: [ID<Contact>].self),
            leadID: try row.optionalUUID("lead_id").map(ID.init),
            closeReason: try row.optionalString("close_reason"), closedAt: try row.optionalDate("closed_at"),
            tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.optionalString("notes"), version: try row.int("version"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            stageEnteredAt: try row.date("stage_entered_at"))
    }
}
