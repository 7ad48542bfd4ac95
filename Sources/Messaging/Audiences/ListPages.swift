import Foundation
import Hummingbird
import Kernel
import Platform

/// Lists in the Messaging web app: all lists with their member counts, a new list, and per list its members,
/// adding addresses (one per line, `Name <address>` or just the address) and removing members. Segments are
/// made through the API (`POST /api/v1/messaging/lists` with `segment`) and shown here with their current matches.
struct ListPages: Sendable {
    let services: MessagingServices
    let pages: MessagingPages
    var service: AudienceService { AudienceService(services: services) }

    static func id(_ context: AppRequestContext) throws -> ID<MailingList> {
        try ID<MailingList>.path(context, entity: "list")
    }

    func register(on registrar: RouteRegistrar) {
        registrar.get("/messaging/lists") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await lists(request, context, issues: []) }
        }
        registrar.post("/messaging/lists") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createList(request, context) }
        }
        registrar.get("/messaging/lists/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await list(request, context, issues: [], notice: nil)
            }
        }
        registrar.post("/messaging/lists/{id}/members") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await addMembers(request, context) }
        }
        registrar.post("/messaging/lists/{id}/members/{contact}/remove") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                do {
                    try await service.removeMember(
                        ID<Contact>.path(context, "contact", entity: "member"), from: Self.id(context),
                        by: context.caller(request))
                    return PageResponses.redirect("/messaging/lists/\(context.parameters.get("id") ?? "")")
                } catch {
                    return try await list(request, context, issues: try MessagingPages.issues(of: error), notice: nil)
                }
            }
        }
    }

    func lists(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        try context.require(.messagingContactsRead)
        let tenant = try context.requireTenant()
        let lists = try await services.database.read(tenant: tenant) { tx in
            var lists = try await ListStore().list(limit: 200, after: nil, in: tx)
            for index in lists.indices {
                lists[index].memberCount = try await ListStore().recipients(of: lists[index], in: tx).count
            }
            return lists
        }
        return pages.frame(request, context, item: "lists", status: issues.isEmpty ? .ok : .unprocessableContent) { t in
            let rows = lists.map { list -> [HTML] in
                [
                    #"<a href="/messaging/lists/\#(list.id.description)">\#(list.name)</a>"#,
                    "\(t(list.segment == nil ? "messaging.list.static" : "messaging.list.segment"))",
                    "\(String(list.memberCount ?? 0))", "\(list.description)",
                ]
            }
            let form: HTML = """
                <form class="form" method="post" action="/messaging/lists">\(MessagingPages.general(issues))
                \(MessagingPages.field("name", label: t("messaging.name"), issues: issues))
                \(MessagingPages.field("description", label: t("messaging.detail"), issues: issues, required: false))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.create"))</button></div></form>
                """
            return """
                \(MessagingPages.table("lists", headers: [t("messaging.name"), t("messaging.list.kind"), t("messaging.list.members"), t("messaging.detail")], rows: rows, empty: t("messaging.lists.empty")))
                <h2>\(t("messaging.lists.new"))</h2>\(form)
                """
        }
    }

    func createList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let body = AudienceService.ListInput(
            name: form["name"] ?? "", description: form["description"], segment: nil)
        do {
            let created = try await service.createList(body, by: context.caller(request))
            return PageResponses.redirect("/messaging/lists/\(created.id)")
        } catch {
            return try await lists(request, context, issues: try MessagingPages.issues(of: error))
        }
    }

    func list(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue], notice: String?) async throws
        -> Response
    {
        try context.require(.messagingContactsRead)
        let list = try await service.findList(Self.id(context), counted: true, by: context.caller(request))
        let tenant = try context.requireTenant()
        let members = try await services.database.read(tenant: tenant) { tx in
            try await ListStore().members(of: list, limit: 200, after: nil, in: tx)
        }
        return pages.frame(
            request, context, item: "lists", title: list.name, status: issues.isEmpty ? .ok : .unprocessableContent
        ) { t in
            let path = "/messaging/lists/\(list.id)"
            let rows = members.map { member -> [HTML] in
                let remove: HTML =
                    list.segment == nil
                    ? #"<form method="post" action="\#(path)/members/\#(member.id.description)/remove"><button class="button" type="submit">\#(t("messaging.remove"))</button></form>"#
                    : ""
                return ["\(member.email)", "\(member.name ?? "")", "\(member.locale ?? "")", remove]
            }
            let add: HTML =
                list.segment == nil
                ? """
                <h2>\(t("messaging.list.add"))</h2>
                <form class="form" method="post" action="\(path)/members">\(MessagingPages.general(issues))
                \(MessagingPages.area("addresses", label: t("messaging.list.addresses"), value: "", issues: issues))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.add"))</button></div></form>
                """
                : "<p>\(t("messaging.list.segment_explained"))</p>"
            let more: HTML = (list.memberCount ?? 0) > members.count ? "<p>\(t("messaging.list.first_200"))</p>" : ""
            return """
                \(MessagingPages.alert(notice.map { "\(t("messaging.list.added")) \($0)" }, kind: "success"))
                <p>\(t("messaging.list.members")): <strong data-member-count>\(String(list.memberCount ?? 0))</strong></p>
                \(MessagingPages.table("members", headers: [t("messaging.email"), t("messaging.name"), t("messaging.locale"), ""], rows: rows, empty: t("messaging.list.no_members")))\(more)
                \(add)
                """
        }
    }

    /// One address per line (`Name <address>` or the address), up to 1,000, added as contacts and members.
    func addMembers(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let lines = (form["addresses"] ?? "").split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        var issues: [FieldIssue] = []
        var contacts: [AudienceService.ContactInput] = []
        for (index, line) in lines.enumerated() {
            if let address = MailAddress.parse(line) {
                contacts.append(
                    AudienceService.ContactInput(
                        email: address.address, name: address.name, locale: nil, attributes: nil)
                )
            } else {
                issues.append(
                    FieldIssue(field: "addresses", code: "invalid_format", message: "line \(index + 1): \(line)"))
            }
        }
        if lines.isEmpty {
            issues.append(FieldIssue(field: "addresses", code: "required", message: "one address per line"))
        }
        guard issues.isEmpty else { return try await list(request, context, issues: issues, notice: nil) }
        do {
            let added = try await service.addMembers(
                AudienceService.MembersInput(contacts: contacts, contactIDs: nil), to: Self.id(context),
                by: context.caller(request))
            return try await list(request, context, issues: [], notice: String(added.added))
        } catch {
            return try await list(request, context, issues: try MessagingPages.issues(of: error), notice: nil)
        }
    }
}
