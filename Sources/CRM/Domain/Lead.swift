import Foundation
import Kernel

/// A person who may become a customer, before qualification and conversion.
package struct Lead: Sendable, Equatable, JSONObject {
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


    /// Absent values are written as null: a client sees every field of the resource.
    package func writeFields(to fields: inout some JSONFields) throws {
        try fields.field("company", company)
        try fields.field("company_id", companyID)
        try fields.field("contact_id", contactID)
        try fields.field("converted_at", date: convertedAt)
        try fields.field("created_at", date: createdAt)
        try fields.field("custom_fields", customFields)
        try fields.field("deal_id", dealID)
        try fields.field("email", email)
        try fields.field("first_name", firstName)
        try fields.field("id", id)
        try fields.field("job_title", jobTitle)
        try fields.field("last_name", lastName)
        try fields.field("notes", notes)
        try fields.field("owner_id", ownerID)
        try fields.field("phone", phone)
        try fields.field("score", score)
        try fields.field("source", source)
        try fields.field("status", status.rawValue)
        try fields.field("tags", tags)
        try fields.field("updated_at", date: updatedAt)
        try fields.field("version", version)
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
