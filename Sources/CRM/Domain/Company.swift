import Foundation
import Kernel

/// An organisation the tenant sells to: many contacts belong to one company.
package struct Company: Sendable, Equatable, Encodable {
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

    enum CodingKeys: String, CodingKey {
        case id, name, domain, industry, employees, phone, address, tags, notes, version
        case ownerID = "owner_id"
        case customFields = "custom_fields"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(domain, forKey: .domain)
        try container.encode(industry, forKey: .industry)
        try container.encode(employees, forKey: .employees)
        try container.encode(phone, forKey: .phone)
        try container.encode(address, forKey: .address)
        try container.encode(ownerID, forKey: .ownerID)
        try container.encode(tags, forKey: .tags)
        try container.encode(customFields, forKey: .customFields)
        try container.encode(notes, forKey: .notes)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
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
package struct Contact: Sendable, Equatable, Encodable {
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

    enum CodingKeys: String, CodingKey {
        case id, email, phone, tags, notes, version
        case firstName = "first_name"
        case lastName = "last_name"
        case jobTitle = "job_title"
        case companyID = "company_id"
        case ownerID = "owner_id"
        case customFields = "custom_fields"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(firstName, forKey: .firstName)
        try container.encode(lastName, forKey: .lastName)
        try container.encode(email, forKey: .email)
        try container.encode(phone, forKey: .phone)
        try container.encode(jobTitle, forKey: .jobTitle)
        try container.encode(companyID, forKey: .companyID)
        try container.encode(ownerID, forKey: .ownerID)
        try container.encode(tags, forKey: .tags)
        try container.encode(customFields, forKey: .customFields)
        try container.encode(notes, forKey: .notes)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
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
