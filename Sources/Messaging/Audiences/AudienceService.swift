import Foundation
import Kernel
import Platform

/// Contacts' and lists' use cases, for the API and the pages: lists (static or segments) and their members.
struct AudienceService: Sendable {
    let services: MessagingServices
    /// Contacts one request may add.
    static let maxBatch = 1_000

    struct ContactInput: JSONRequestBody {
        let email: String
        let name: String?
        let locale: String?
        let attributes: [String: JSONValue]?
        static let fieldNames: Set<String> = ["email", "name", "locale", "attributes"]
    }

    struct ListInput: JSONRequestBody {
        let name: String
        let description: String?
        let segment: Segment?
        static let fieldNames: Set<String> = ["name", "description", "segment"]
    }

    struct MembersInput: JSONRequestBody {
        let contacts: [ContactInput]?
        let contactIDs: [String]?
        static let fieldNames: Set<String> = ["contacts", "contact_ids"]
        enum CodingKeys: String, CodingKey {
            case contacts
            case contactIDs = "contact_ids"
        }
    }

    struct MembersAdded: Encodable {
        let added: Int
        let contacts: Int
    }

    struct ValidContact: Sendable {
        let email: String
        let name: String?
        let locale: String?
        let attributes: [String: JSONValue]
    }

    static func validate(_ body: ContactInput, prefix: String, into validation: inout Validation) -> ValidContact? {
        let address = Check.email(body.email, field: "\(prefix)email", into: &validation)
        if let name = body.name, name.count > 200 {
            validation.add(
                FieldIssue(field: "\(prefix)name", code: "invalid_length", message: "at most 200 characters"))
        }
        let locale = Check.locale(body.locale, field: "\(prefix)locale", into: &validation)
        if let attributes = body.attributes, attributes.count > 100 {
            validation.add(
                FieldIssue(field: "\(prefix)attributes", code: "too_many", message: "at most 100 attributes"))
        }
        guard let address else { return nil }
        return ValidContact(
            email: address.address, name: body.name ?? address.name, locale: locale, attributes: body.attributes ?? [:])
    }

    static func validate(_ body: ListInput) throws -> (name: String, description: String, segment: Segment?) {
        var validation = Validation()
        let name = Check.text(body.name, field: "name", max: 200, into: &validation)
        if let description = body.description, description.count > 2_000 {
            validation.add(
                FieldIssue(field: "description", code: "invalid_length", message: "at most 2,000 characters"))
        }
        if let segment = body.segment {
            if segment.conditions.isEmpty || segment.conditions.count > 20 {
                validation.add(
                    FieldIssue(field: "segment.conditions", code: "invalid_length", message: "1 to 20 conditions"))
            }
            for (index, condition) in segment.conditions.enumerated() {
                if !Segment.isValidField(condition.field) {
                    validation.add(
                        FieldIssue(
                            field: "segment.conditions[\(index)].field", code: "invalid_value",
                            message: "email, name, locale or attributes.<name>"))
                }
                let needsValue = ![.exists, .notExists].contains(condition.op)
                if needsValue && condition.value == nil {
                    validation.add(
                        FieldIssue(
                            field: "segment.conditions[\(index)].value", code: "required",
                            message: "\(condition.op.rawValue) needs a value"))
                }
            }
        }
        try validation.check()
        return (name, body.description ?? "", body.segment)
    }

    func createList(_ input: ListInput, by caller: Caller) async throws -> MailingList {
        try caller.require(.messagingContactsWrite)
        let valid = try Self.validate(input)
        let now = services.clock.now().storedPrecision
        let list = MailingList(
            id: .generate(), name: valid.name, description: valid.description, segment: valid.segment, memberCount: 0,
            createdAt: now, updatedAt: now)
        try await services.database.audited(
            "messaging.list.created", target: "mailing_list", id: { _ in list.id.description },
            at: services.clock.now(), by: caller
        ) { tx in try await ListStore().insert(list, in: tx) }
        return list
    }

    /// A list (`counted`: with its member count).
    func findList(_ id: ID<MailingList>, counted: Bool = false, by caller: Caller) async throws -> MailingList {
        try caller.require(.messagingContactsRead)
        guard
            let list = try await services.database.read(
                tenant: caller.tenant,
                { tx in
                    counted
                        ? try await ListStore().findCounted(id: id, in: tx) : try await ListStore().find(id: id, in: tx)
                })
        else { throw DomainError.notFound(entity: "list") }
        return list
    }

    /// Adds up to 1,000 contacts per request: new addresses become contacts, known ones are updated.
    func addMembers(_ body: MembersInput, to id: ID<MailingList>, by caller: Caller) async throws -> MembersAdded {
        try caller.require(.messagingContactsWrite)
        var validation = Validation()
        let given = body.contacts ?? []
        let ids = body.contactIDs ?? []
        if given.isEmpty && ids.isEmpty {
            validation.add(FieldIssue(field: "contacts", code: "required", message: "give contacts or contact_ids"))
        }
        if given.count + ids.count > Self.maxBatch {
            validation.add(
                FieldIssue(field: "contacts", code: "too_many", message: "at most \(Self.maxBatch) per request"))
        }
        let contacts = given.enumerated().compactMap { index, contact in
            Self.validate(contact, prefix: "contacts[\(index)].", into: &validation)
        }
        var contactIDs: [ID<Contact>] = []
        for (index, text) in ids.enumerated() {
            if let id = ID<Contact>(text) {
                contactIDs.append(id)
            } else {
                validation.add(
                    FieldIssue(field: "contact_ids[\(index)]", code: "invalid_format", message: "a contact id"))
            }
        }
        try validation.check()
        let now = services.clock.now()
        let toAdd = contactIDs
        return try await services.database.audited(
            "messaging.list.members_added", target: "mailing_list", id: { _ in id.description },
            details: { _ in ["count": .integer(Int64(contacts.count + ids.count))] }, at: now, by: caller
        ) { tx -> MembersAdded in
            guard let list = try await ListStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "list")
            }
            guard list.segment == nil else {
                throw DomainError.conflict("this list is a segment: its members are the contacts that match it")
            }
            var members = toAdd
            for id in toAdd where try await ContactStore().find(id: id, in: tx) == nil {
                throw DomainError.validation([
                    FieldIssue(field: "contact_ids", code: "not_found", message: "no contact \(id)")
                ])
            }
            for contact in contacts {
                let saved = try await ContactStore().upsert(
                    email: contact.email, name: contact.name, locale: contact.locale, attributes: contact.attributes,
                    now: now, in: tx)
                members.append(saved.contact.id)
            }
            let added = try await ListStore().addMembers(members, to: id, now: now, in: tx)
            return MembersAdded(added: added, contacts: members.count)
        }
    }

    func removeMember(_ contact: ID<Contact>, from id: ID<MailingList>, by caller: Caller) async throws {
        try caller.require(.messagingContactsWrite)
        try await services.database.audited(
            "messaging.list.member_removed", target: "mailing_list", id: { _ in id.description },
            details: { _ in ["contact": .string(contact.description)] }, at: services.clock.now(), by: caller
        ) { tx in
            guard try await ListStore().removeMember(contact, from: id, in: tx) else {
                throw DomainError.notFound(entity: "member")
            }
        }
    }
}
