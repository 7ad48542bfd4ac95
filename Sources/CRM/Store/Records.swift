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

    static func decode(_ row: any SQLRow) throws -> Lead {
        Lead(
            id: ID(try row.decodeUUID(column: "id")), firstName: try row.decode(column: "first_name", as: String?.self),
            lastName: try row.decode(column: "last_name", as: String?.self),
            email: try row.decode(column: "email", as: String?.self),
            phone: try row.decode(column: "phone", as: String?.self),
            company: try row.decode(column: "company", as: String?.self),
            jobTitle: try row.decode(column: "job_title", as: String?.self),
            source: try row.decode(column: "source", as: String.self),
            status: LeadStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .new,
            score: try row.decode(column: "score", as: Int.self),
            ownerID: try row.decode(column: "owner_id", as: String?.self), tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.decode(column: "notes", as: String?.self),
            convertedAt: try row.optionalDate("converted_at"),
            contactID: try row.decodeOptionalUUID(column: "contact_id").map(ID.init),
            companyID: try row.decodeOptionalUUID(column: "company_id").map(ID.init),
            dealID: try row.decodeOptionalUUID(column: "deal_id").map(ID.init),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
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

    static func decode(_ row: any SQLRow) throws -> Company {
        Company(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            domain: try row.decode(column: "domain", as: String?.self),
            industry: try row.decode(column: "industry", as: String?.self),
            employees: try row.decode(column: "employees", as: Int?.self),
            phone: try row.decode(column: "phone", as: String?.self),
            address: try row.decode(column: "address", as: String?.self),
            ownerID: try row.decode(column: "owner_id", as: String?.self), tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.decode(column: "notes", as: String?.self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
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

    static func decode(_ row: any SQLRow) throws -> Contact {
        Contact(
            id: ID(try row.decodeUUID(column: "id")), firstName: try row.decode(column: "first_name", as: String?.self),
            lastName: try row.decode(column: "last_name", as: String?.self),
            email: try row.decode(column: "email", as: String?.self),
            phone: try row.decode(column: "phone", as: String?.self),
            jobTitle: try row.decode(column: "job_title", as: String?.self),
            companyID: try row.decodeOptionalUUID(column: "company_id").map(ID.init),
            ownerID: try row.decode(column: "owner_id", as: String?.self), tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.decode(column: "notes", as: String?.self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
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

    static func decode(_ row: any SQLRow) throws -> Deal {
        guard let currency = CurrencyCode(try row.decode(column: "currency", as: String.self)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "stored currency"))
        }
        return Deal(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            pipelineID: ID(try row.decodeUUID(column: "pipeline_id")), stageID: ID(try row.decodeUUID(column: "stage_id")),
            status: Deal.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .open,
            value: Money(amountMinor: try row.decode(column: "amount_minor", as: Int64.self), currency: currency),
            probability: try row.decode(column: "probability", as: Int.self),
            expectedClose: try row.decode(column: "expected_close", as: String?.self),
            ownerID: try row.decode(column: "owner_id", as: String?.self),
            companyID: try row.decodeOptionalUUID(column: "company_id").map(ID.init),
            contactIDs: try row.json("contact_ids", as: [ID<Contact>].self),
            leadID: try row.decodeOptionalUUID(column: "lead_id").map(ID.init),
            closeReason: try row.decode(column: "close_reason", as: String?.self), closedAt: try row.optionalDate("closed_at"),
            tags: try row.json("tags", as: [String].self),
            customFields: try row.json("custom_fields", as: [String: JSONValue].self),
            notes: try row.decode(column: "notes", as: String?.self), version: try row.decode(column: "version", as: Int.self),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            stageEnteredAt: try row.date("stage_entered_at"))
    }
}
