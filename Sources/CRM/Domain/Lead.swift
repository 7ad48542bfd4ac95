import Foundation
import Kernel

/// A person who may become a customer, before qualification and conversion.
package struct Lead: Sendable, Equatable, Encodable {
    package let id: ID<Lead>
    package var firstName: String?
    package var lastName: String?
    package var email: String?
    /// E.164 (`+4930123456`).
    package var phone: String?
    package var company: String?
    package var jobTitle: String?
    package var source: String
    package var status: LeadStatus
    /// 0 to 100.
    package var score: Int
    /// The user who works the lead (an Identity user id).
    package var ownerID: String?
    package var tags: [String]
    package var customFields: [String: JSONValue]
    package var notes: String?
    /// Set once, when the lead was converted, with what it became.
    package var convertedAt: Date? = nil
    package var contactID: ID<Contact>? = nil
    package var companyID: ID<Company>? = nil
    package var dealID: ID<Deal>? = nil
    /// Grows by one with every change: the ETag, and what `If-Match` compares.
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, phone, company, source, status, score, tags, notes, version
        case firstName = "first_name"
        case lastName = "last_name"
        case jobTitle = "job_title"
        case ownerID = "owner_id"
        case customFields = "custom_fields"
        case convertedAt = "converted_at"
        case contactID = "contact_id"
        case companyID = "company_id"
        case dealID = "deal_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        // Absent values are written as null: a client sees every field of the resource.
        try container.encode(firstName, forKey: .firstName)
        try container.encode(lastName, forKey: .lastName)
        try container.encode(email, forKey: .email)
        try container.encode(phone, forKey: .phone)
        try container.encode(company, forKey: .company)
        try container.encode(jobTitle, forKey: .jobTitle)
        try container.encode(source, forKey: .source)
        try container.encode(status, forKey: .status)
        try container.encode(score, forKey: .score)
        try container.encode(ownerID, forKey: .ownerID)
        try container.encode(tags, forKey: .tags)
        try container.encode(customFields, forKey: .customFields)
        try container.encode(notes, forKey: .notes)
        try container.encode(convertedAt.map { RFC3339.string(from: $0) }, forKey: .convertedAt)
        try container.encode(contactID, forKey: .contactID)
        try container.encode(companyID, forKey: .companyID)
        try container.encode(dealID, forKey: .dealID)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }

    /// The editable fields as JSON, for audit changes and `crm.lead.updated` events.
    package var fields: [String: JSONValue] {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return [
            "first_name": text(firstName), "last_name": text(lastName), "email": text(email), "phone": text(phone),
            "company": text(company), "job_title": text(jobTitle), "source": .string(source),
            "status": .string(status.rawValue), "score": .integer(Int64(score)), "owner_id": text(ownerID),
            "tags": .array(tags.map(JSONValue.string)), "custom_fields": .object(customFields), "notes": text(notes),
            "contact_id": text(contactID?.description), "company_id": text(companyID?.description),
            "deal_id": text(dealID?.description),
        ]
    }

    /// The readable name: first and last name, else the email, else the company.
    package var displayName: String {
        let name = [firstName, lastName].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? (email ?? company ?? "") : name
    }
}
