import Foundation
import Hummingbird
import Kernel
import Platform

/// Contacts, lists (static or segments) and list members.
struct AudienceRoutes: Sendable {
    let services: MessagingServices

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
        routes.get("\(lists)/{id}") { request, context in try await getList(request, context) }
        routes.put("\(lists)/{id}") { request, context in try await updateList(request, context) }
        routes.delete("\(lists)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await deleteList(request, context) }
        }
        routes.get("\(lists)/{id}/members") { request, context in try await listMembers(request, context) }
        routes.post("\(lists)/{id}/members") { request, context in try await addMembers(request, context) }
        routes.delete("\(lists)/{id}/members/{contact}") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try context.require(.messagingContactsWrite)
            let list = try Self.listID(context)
            let contact = try ID<Contact>.path(context, "contact", entity: "member")
            try await service.removeMember(contact, from: list, by: context.caller(request))
            return JSONResponse.noContent()
        }
    }

    func upsertContact(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let body = try await JSONBody.decode(AudienceService.ContactInput.self, from: request, context: context)
        var validation = Validation()
        let valid = AudienceService.validate(body, prefix: "", into: &validation)
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

    var service: AudienceService { AudienceService(services: services) }

    func createList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AudienceService.ListInput.self, from: request, context: context)
        let list = try await service.createList(body, by: context.caller(request))
        return try JSONResponse.created(list, location: "\(MessagingAPI.base)/lists/\(list.id)")
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

    func getList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsRead)
        return try JSONResponse.make(
            try await service.findList(Self.listID(context), counted: true, by: context.caller(request)))
    }

    func updateList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingContactsWrite)
        let id = try ID<MailingList>.path(context, entity: "list")
        let body = try await JSONBody.decode(AudienceService.ListInput.self, from: request, context: context)
        let valid = try AudienceService.validate(body)
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
        let list = try await service.findList(Self.listID(context), by: context.caller(request))
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
        let body = try await JSONBody.decode(AudienceService.MembersInput.self, from: request, context: context)
        try context.require(.messagingContactsWrite)
        return try JSONResponse.make(
            try await service.addMembers(body, to: Self.listID(context), by: context.caller(request)))
    }

    static func listID(_ context: AppRequestContext) throws -> ID<MailingList> {
        try ID<MailingList>.path(context, entity: "list")
    }
}
