import Foundation
import Hummingbird
import Kernel
import Platform

/// Contacts, lists (static or segments) and list members.
struct AudienceRoutes: Sendable {
    let services: MessagingServices
    /// Contacts one request may add.
    static let maxBatch = 1_000

    struct ContactBody: JSONRequestBody {
        let email: String
        let name: String?
        let locale: String?
        let attributes: [String: JSONValue]?
        static let fieldNames: Set<String> = ["email", "name", "locale", "attributes"]
    }

    struct ListBody: JSONRequestBody {
        let name: String
        let description: String?
        let segment: Segment?
        static let fieldNames: Set<String> = ["name", "description", "segment"]
    }

    struct MembersBody: JSONRequestBody {
        let contacts: [ContactBody]?
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

    func register(on routes: RouteRegistrar) {
        let contacts = "\(MessagingAPI.base)/contacts"
        routes.get(RouterPath(contacts)) { request, context in try await listContacts(request, context) }
        routes.post(RouterPath(contacts)) { request, context in try await upsertContact(request, context) }
        routes.get("\(contacts)/{id}") { _, context in try await getContact(context) }
        routes.delete("\(contacts)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await deleteContact(request, context) }
        }
        let lists = "\(MessagingAPI.base)/lists"
        routes.get(RouterPath(lists)) { request, context in try await listLists(request, context) }
        routes.post(RouterPath(lists)) { request, context in try await createList(request, context) }
        routes.get("\(lists)/{id}") { _, context in try await getList(context) }
        routes.put("\(lists)/{id}") { request, context in try await updateList(request, context) }
        routes.delete("\(lists)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await deleteList(request, context) }
        }
        routes.get("\(lists)/{id}/members") { request, context in try await listMembers(request, context) }
        routes.post("\(lists)/{id}/members") { request, context in try await addMembers(request, context) }
        routes.delete("\(lists)/{id}/members/{contact}") { request, context in
            try await JSONBody.requireNone(request, context: context)
            return try await removeMember(request, context)
        }
    }

    struct ValidContact: Sendable {
        let email: String
        let name: String?
        let locale: String?
        let attributes: [String: JSONValue]
    }

    static func validate(_ body: ContactBody, prefix: String, into validation: inout Validation) -> ValidContact? {
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

    func upsertContact(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let body = try await JSONBody.decode(ContactBody.self, from: request, context: context)
        var validation = Validation()
        let valid = Self.validate(body, prefix: "", into: &validation)
        try validation.check()
        guard let valid else { throw DomainError.validation(validation.issues) }
        let now = services.clock.now()
        let result = try await services.audited(
            "messaging.contact.saved", target: "contact", id: { $0.contact.id.description }, request: request,
            context: context
        ) { tx in
            try await ContactStore().upsert(
                email: valid.email, name: valid.name, locale: valid.locale, attributes: valid.attributes, now: now,
                in: tx)
        }
        if result.created {
            return try JSONResponse.created(
                result.contact, location: "\(MessagingAPI.base)/contacts/\(result.contact.id)")
        }
        return try JSONResponse.make(result.contact)
    }

    func listContacts(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorID(Contact.self)
        let contacts = try await services.database.read(tenant: tenant) { tx in
            try await ContactStore().list(limit: limit + 1, after: after, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: contacts, limit: limit) { $0.id.description })
    }

    func getContact(_ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsRead)
        let tenant = try context.requireTenant()
        let id = try ID<Contact>.path(context, entity: "contact")
        guard
            let contact = try await services.database.read(
                tenant: tenant, { tx in try await ContactStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "contact") }
        return try JSONResponse.make(contact)
    }

    func deleteContact(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let id = try ID<Contact>.path(context, entity: "contact")
        try await services.audited(
            "messaging.contact.deleted", target: "contact", id: { _ in id.description }, request: request,
            context: context
        ) { tx in
            guard try await ContactStore().delete(id: id, in: tx) else { throw DomainError.notFound(entity: "contact") }
        }
        return JSONResponse.noContent()
    }

    static func validate(_ body: ListBody) throws -> (name: String, description: String, segment: Segment?) {
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

    func createList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ListBody.self, from: request, context: context)
        let list = try await createList(body, request, context)
        return try JSONResponse.created(list, location: "\(MessagingAPI.base)/lists/\(list.id)")
    }

    func createList(_ body: ListBody, _ request: Request, _ context: AppRequestContext) async throws -> MailingList {
        try context.require(.messagingContactsWrite)
        let valid = try Self.validate(body)
        let now = services.clock.now().storedPrecision
        let list = MailingList(
            id: .generate(), name: valid.name, description: valid.description, segment: valid.segment, memberCount: 0,
            createdAt: now, updatedAt: now)
        try await services.audited(
            "messaging.list.created", target: "mailing_list", id: { _ in list.id.description }, request: request,
            context: context
        ) { tx in try await ListStore().insert(list, in: tx) }
        return list
    }

    func listLists(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorID(MailingList.self)
        let lists = try await services.database.read(tenant: tenant) { tx in
            try await ListStore().list(limit: limit + 1, after: after, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: lists, limit: limit) { $0.id.description })
    }

    func findList(_ context: AppRequestContext, counted: Bool = false) async throws -> MailingList {
        let tenant = try context.requireTenant()
        let id = try ID<MailingList>.path(context, entity: "list")
        guard
            let list = try await services.database.read(
                tenant: tenant,
                { tx in
                    counted
                        ? try await ListStore().findCounted(id: id, in: tx) : try await ListStore().find(id: id, in: tx)
                })
        else { throw DomainError.notFound(entity: "list") }
        return list
    }

    func getList(_ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsRead)
        return try JSONResponse.make(try await findList(context, counted: true))
    }

    func updateList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let id = try ID<MailingList>.path(context, entity: "list")
        let body = try await JSONBody.decode(ListBody.self, from: request, context: context)
        let valid = try Self.validate(body)
        let now = services.clock.now().storedPrecision
        let updated = try await services.audited(
            "messaging.list.updated", target: "mailing_list", id: { _ in id.description }, request: request,
            context: context
        ) { tx -> MailingList in
            guard var list = try await ListStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "list")
            }
            list.name = valid.name
            list.description = valid.description
            list.segment = valid.segment
            list.updatedAt = now
            _ = try await ListStore().update(list, in: tx)
            return list
        }
        return try JSONResponse.make(updated)
    }

    func deleteList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let id = try ID<MailingList>.path(context, entity: "list")
        try await services.audited(
            "messaging.list.deleted", target: "mailing_list", id: { _ in id.description }, request: request,
            context: context
        ) { tx in
            guard try await ListStore().delete(id: id, in: tx) else { throw DomainError.notFound(entity: "list") }
        }
        return JSONResponse.noContent()
    }

    func listMembers(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsRead)
        let list = try await findList(context)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorID(Contact.self)
        let members = try await services.database.read(tenant: tenant) { tx in
            try await ListStore().members(of: list, limit: limit + 1, after: after, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: members, limit: limit) { $0.id.description })
    }

    /// Adds up to 1,000 contacts per request: new addresses become contacts, known ones are updated.
    func addMembers(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(MembersBody.self, from: request, context: context)
        return try JSONResponse.make(try await addMembers(body, request, context))
    }

    func addMembers(_ body: MembersBody, _ request: Request, _ context: AppRequestContext) async throws
        -> MembersAdded
    {
        try context.require(.messagingContactsWrite)
        let id = try ID<MailingList>.path(context, entity: "list")
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
        return try await services.audited(
            "messaging.list.members_added", target: "mailing_list", id: { _ in id.description },
            details: ["count": .integer(Int64(contacts.count + ids.count))], request: request, context: context
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

    func removeMember(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let id = try ID<MailingList>.path(context, entity: "list")
        let contact = try ID<Contact>.path(context, "contact", entity: "member")
        try await services.audited(
            "messaging.list.member_removed", target: "mailing_list", id: { _ in id.description },
            details: ["contact": .string(contact.description)], request: request, context: context
        ) { tx in
            guard try await ListStore().removeMember(contact, from: id, in: tx) else {
                throw DomainError.notFound(entity: "member")
            }
        }
        return JSONResponse.noContent()
    }
}
