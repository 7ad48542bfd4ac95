import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit

/// Companies: organisations, unique by web domain (served at `/api/v1/crm/companies`).
enum CompanyKind {
    static let kind = RecordKind<Company>(
        name: "company", plural: "companies", read: .crmLeadsRead, write: .crmLeadsWrite,
        fieldNames: [
            "name", "domain", "industry", "employees", "phone", "address", "owner_id", "tags", "custom_fields", "notes",
        ],
        blank: { owner, now in
            Company(
                id: .generate(), name: "", domain: nil, industry: nil, employees: nil, phone: nil, address: nil,
                ownerID: owner, tags: [], customFields: [:], notes: nil, version: 1, createdAt: now, updatedAt: now)
        },
        apply: { fields, company, definitions, _ in
            var input = RecordInput(fields)
            if case .some(let name) = input.text("name", max: 200) {
                if let name { company.name = name } else { input.issue("name", "required", "a company needs a name") }
            }
            if case .some(let value) = input.text("domain", max: 253) {
                if let value {
                    if let domain = Company.domain(from: value) {
                        company.domain = domain
                    } else {
                        input.issue("domain", "invalid_format", "a domain such as acme.example")
                    }
                } else {
                    company.domain = nil
                }
            }
            if case .some(let value) = input.text("industry", max: 100) { company.industry = value }
            if case .some(let value) = input.integer("employees", in: 0...10_000_000) { company.employees = value }
            if case .some(let value) = input.phone() { company.phone = value }
            if case .some(let value) = input.text("address", max: 500) { company.address = value }
            if case .some(let value) = input.id("owner_id", message: "a user id") { company.ownerID = value }
            if case .some(let value) = input.text("notes", max: 10_000) { company.notes = value }
            if let tags = input.tags() { company.tags = tags }
            input.customFields(into: &company.customFields, definitions: definitions)
            if company.name.isEmpty && input.validation.issues.isEmpty {
                input.issue("name", "required", "a company needs a name")
            }
            try input.validation.check()
        },
        beforeDelete: { company, now, trace, tx in
            // Its contacts, deals and the leads converted into it stay, without the company.
            for entity in [CustomField.Entity.contact, .deal, .lead] {
                try await RecordLinks.clear(
                    "company_id", of: entity, pointingAt: company.uuid, now: now, trace: trace, in: tx)
            }
        })
}

/// Contacts: people, unique by email, each of at most one company (`company_id`; served at `/api/v1/crm/contacts`).
enum ContactKind {
    static let kind = RecordKind<Contact>(
        name: "contact", plural: "contacts", read: .crmLeadsRead, write: .crmLeadsWrite,
        fieldNames: [
            "first_name", "last_name", "email", "phone", "job_title", "company_id", "owner_id", "tags",
            "custom_fields", "notes",
        ],
        blank: { owner, now in
            Contact(
                id: .generate(), firstName: nil, lastName: nil, email: nil, phone: nil, jobTitle: nil, companyID: nil,
                ownerID: owner, tags: [], customFields: [:], notes: nil, version: 1, createdAt: now, updatedAt: now)
        },
        apply: { fields, contact, definitions, _ in
            var input = RecordInput(fields)
            if case .some(let value) = input.text("first_name", max: 100) { contact.firstName = value }
            if case .some(let value) = input.text("last_name", max: 100) { contact.lastName = value }
            if case .some(let value) = input.email() { contact.email = value }
            if case .some(let value) = input.phone() { contact.phone = value }
            if case .some(let value) = input.text("job_title", max: 100) { contact.jobTitle = value }
            if case .some(let value) = input.id("company_id", message: "a company id") {
                contact.companyID = value.flatMap { ID($0) }
            }
            if case .some(let value) = input.id("owner_id", message: "a user id") { contact.ownerID = value }
            if case .some(let value) = input.text("notes", max: 10_000) { contact.notes = value }
            if let tags = input.tags() { contact.tags = tags }
            input.customFields(into: &contact.customFields, definitions: definitions)
            if contact.firstName == nil && contact.lastName == nil && contact.email == nil
                && input.validation.issues.isEmpty
            {
                input.issue("last_name", "required", "a contact needs a first or last name, or an email address")
            }
            try input.validation.check()
        },
        prepare: { contact, before, tx in
            guard let company = contact.companyID, company != before?.companyID else { return }
            guard try await RecordStore<Company>().find(company.rawValue, in: tx) != nil else {
                throw DomainError.validation([
                    FieldIssue(field: "company_id", code: "not_found", message: "no such company")
                ])
            }
        },
        beforeDelete: { contact, now, trace, tx in
            try await RecordLinks.removeContact(contact.uuid, now: now, trace: trace, in: tx)
            try await RecordLinks.clear(
                "contact_id", of: .lead, pointingAt: contact.uuid, now: now, trace: trace, in: tx)
        })
}
