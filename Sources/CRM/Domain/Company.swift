import Foundation
import Kernel

/// An organisation the tenant sells to: many contacts belong to one company.
package struct Company: Sendable, Equatable, JSONObject {
    package let id: ID<Company>
    package var name: String
    /// The web domain (`acme.example`), lower-case; unique per tenant when set.
    package var domain: String?
    package var industry: String?
    package var employees: Int?
    package var phone: String?
    package var address: String?
    package var ownerID: String?
    package var tags: [String]
    package var customFields: [String: JSONValue]
    package var notes: String?
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date


    package func writeFields(to fields: inout some JSONFields) throws {
        try fields.field("address", address)
        try fields.field("created_at", date: createdAt)
        try fields.field("custom_fields", customFields)
        try fields.field("domain", domain)
        try fields.field("employees", employees)
        try fields.field("id", id)
        try fields.field("industry", industry)
        try fields.field("name", name)
        try fields.field("notes", notes)
        try fields.field("owner_id", ownerID)
        try fields.field("phone", phone)
        try fields.field("tags", tags)
        try fields.field("updated_at", date: updatedAt)
        try fields.field("version", version)
    }

    /// The editable fields as JSON, for audit changes and `crm.company.updated` events.
    package var fields: [String: JSONValue] {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return [
            "name": .string(name), "domain": text(domain), "industry": text(industry),
            "employees": employees.map { .integer(Int64($0)) } ?? .null, "phone": text(phone),
            "address": text(address), "owner_id": text(ownerID), "tags": .array(tags.map(JSONValue.string)),
            "custom_fields": .object(customFields), "notes": text(notes),
        ]
    }

    /// `text` as a domain: a URL's or an address's host part, lower-case; `nil` when it is not a host name.
    package static func domain(from text: String) -> String? {
        var host = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let scheme = host.range(of: "://") { host = String(host[scheme.upperBound...]) }
        if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
        host = String(host.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != ":" })
        if host.hasPrefix("www.") { host.removeFirst(4) }
        if host.hasSuffix(".") { host.removeLast() }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard host.count <= 253, labels.count >= 2,
            labels.allSatisfy({ label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            })
        else { return nil }
        return host
    }
}

/// A person at a customer or prospect, usually of a company.
package struct Contact: Sendable, Equatable, JSONObject {
    package let id: ID<Contact>
    package var firstName: String?
    package var lastName: String?
    /// Unique per tenant when set (any case).
    package var email: String?
    package var phone: String?
    package var jobTitle: String?
    package var companyID: ID<Company>?
    package var ownerID: String?
    package var tags: [String]
    package var customFields: [String: JSONValue]
    package var notes: String?
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date


    package func writeFields(to fields: inout some JSONFields) throws {
        try fields.field("company_id", companyID)
        try fields.field("created_at", date: createdAt)
        try fields.field("custom_fields", customFields)
        try fields.field("email", email)
        try fields.field("first_name", firstName)
        try fields.field("id", id)
        try fields.field("job_title", jobTitle)
        try fields.field("last_name", lastName)
        try fields.field("notes", notes)
        try fields.field("owner_id", ownerID)
        try fields.field("phone", phone)
        try fields.field("tags", tags)
        try fields.field("updated_at", date: updatedAt)
        try fields.field("version", version)
    }

    package var fields: [String: JSONValue] {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return [
            "first_name": text(firstName), "last_name": text(lastName), "email": text(email), "phone": text(phone),
            "job_title": text(jobTitle), "company_id": text(companyID?.description), "owner_id": text(ownerID),
            "tags": .array(tags.map(JSONValue.string)), "custom_fields": .object(customFields), "notes": text(notes),
        ]
    }
}
