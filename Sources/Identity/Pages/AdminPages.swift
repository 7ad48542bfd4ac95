import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Administration pages: roles, API keys, OAuth clients, identity providers, sessions, the audit log and tenant
/// settings. Each lists what the JSON API lists and posts plain forms to actions that call the same API code, so
/// permissions, validation and audit are identical; a missing permission is a 403 page.
struct AdminPages: Sendable {
    let services: IdentityServices
    var kit: PageKit { PageKit(services: services) }

    func register(on routes: RouteRegistrar) {
        routes.get("/admin/roles") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await roles(request, context, notice: nil) }
        }
        routes.post("/admin/roles") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createRole(request, context) }
        }
        routes.get("/admin/api-keys") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await apiKeys(request, context, notice: nil) }
        }
        routes.post("/admin/api-keys") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createAPIKey(request, context) }
        }
        routes.post("/admin/api-keys/{id}/revoke") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await APIKeyService(services: services).revoke(
                    ID<APIKey>.path(context, entity: "API key"), by: context.caller(request))
                return PageResponses.redirect("/admin/api-keys")
            }
        }
        routes.get("/admin/sessions") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await sessions(request, context) }
        }
        routes.post("/admin/sessions/{id}/revoke") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await SessionService(services: services).revoke(
                    ID<Session>.path(context, entity: "session"), by: context.caller(request))
                return PageResponses.redirect("/admin/sessions")
            }
        }
        routes.get("/admin/audit") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await audit(request, context) }
        }
        routes.get("/admin/settings") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await settings(request, context, issues: [], saved: false)
            }
        }
        routes.post("/admin/settings") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await saveSettings(request, context) }
        }
        routes.get("/admin/oauth-clients") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await clients(request, context, notice: nil) }
        }
        routes.post("/admin/oauth-clients") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createClient(request, context) }
        }
        routes.get("/admin/providers") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await providers(request, context, notice: nil)
            }
        }
        routes.post("/admin/providers") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createProvider(request, context) }
        }
    }

    /// The admin sub-navigation shown on every admin page.
    static func menu(_ t: Localizer, current: String) -> HTML {
        let items = ["users", "roles", "api-keys", "oauth-clients", "providers", "sessions", "audit", "settings"]
        let links = items.map { item -> HTML in
            let marker: HTML = item == current ? #" aria-current="page""# : ""
            let label = t("admin." + item)
            return #"<li><a href="/admin/\#(item)"\#(marker)>\#(label)</a></li>"#
        }
        return #"<nav aria-label="\#(t("admin.title"))"><ul class="admin-menu">\#(links)</ul></nav>"#
    }

    private func frame(
        _ request: Request, _ context: AppRequestContext, item: String, status: HTTPResponse.Status = .ok,
        _ content: @escaping (Localizer) -> HTML
    ) -> Response {
        kit.page(request, context, title: "admin.\(item)", status: status) { t in
            "<section class=\"section\">\(Self.menu(t, current: item))<h1>\(t("admin.\(item)"))</h1>\(content(t))</section>"
        }
    }

    private func table(_ id: String, headers: [String], rows: [[HTML]]) -> HTML {
        let head = headers.map { header -> HTML in "<th scope=\"col\">\(header)</th>" }
        let body = rows.map { cells -> HTML in "<tr>\(cells.map { cell -> HTML in "<td>\(cell)</td>" })</tr>" }
        return
            "<div class=\"table-wrap\"><table class=\"table\" id=\"\(id)\"><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    private static func list(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init)
    }

    private func failure(_ error: any Error) throws -> String {
        let (fields, message) = PageKit.issues(of: error)
        guard !fields.isEmpty || message != nil else { throw error }
        return message ?? fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
    }

    // MARK: roles

    func roles(_ request: Request, _ context: AppRequestContext, notice: String?) async throws -> Response {
        try context.require(.rolesRead)
        let tenant = try context.requireTenant()
        let custom = try await services.database.read(tenant: tenant) { tx in try await RoleStore().list(in: tx) }
        let all = BuiltInRole.allCases.map { Role.builtIn($0, among: services.permissions.catalog) } + custom
        let catalog = services.permissions.catalog
        return frame(request, context, item: "roles") { t in
            let rows = all.map { role -> [HTML] in
                [
                    "\(role.name)", "\(role.description)",
                    "\(role.permissions.map(\.description).joined(separator: ", "))",
                ]
            }
            let boxes = catalog.map { permission -> HTML in
                #"<label><input type="checkbox" name="p.\#(permission.description)" value="on"> \#(permission.description)</label>"#
            }
            let form = PageKit.form(
                action: "/admin/roles",
                """
                \(PageKit.field("name", label: t("admin.name")))\(PageKit.field("description", label: t("admin.description"), required: false))
                <fieldset class="field"><legend>\(t("admin.permissions"))</legend>\(boxes)</fieldset>
                """, submit: t("admin.create"))
            return
                "\(PageKit.alert(notice))\(table("roles", headers: [t("admin.name"), t("admin.description"), t("admin.permissions")], rows: rows))<h2>\(t("admin.roles.new"))</h2>\(form)"
        }
    }

    func createRole(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let permissions = form.keys.filter { $0.hasPrefix("p.") }.map { String($0.dropFirst(2)) }.sorted()
        do {
            _ = try await RoleService(services: services).create(
                .init(name: form["name"], description: form["description"], permissions: permissions),
                by: context.caller(request))
            return PageResponses.redirect("/admin/roles")
        } catch { return try await roles(request, context, notice: try failure(error)) }
    }

    // MARK: API keys

    func apiKeys(_ request: Request, _ context: AppRequestContext, notice: String?, secret: String? = nil)
        async throws -> Response
    {
        try context.require(.apiKeysRead)
        let tenant = try context.requireTenant()
        let keys = try await services.database.read(tenant: tenant) { tx in
            try await APIKeyStore().list(limit: 200, before: nil, includeRevoked: false, in: tx)
        }
        return frame(request, context, item: "api-keys") { t in
            let rows = keys.map { key -> [HTML] in
                [
                    "\(key.name)", "<code>\(key.prefix)…</code>",
                    "\(key.permissions.map(\.description).joined(separator: ", "))",
                    "\(key.lastUsedAt.map(RFC3339.string(from:)) ?? "—")",
                    #"<form method="post" action="/admin/api-keys/\#(key.id.description)/revoke"><button class="button button-small button-danger" type="submit">\#(t("admin.revoke"))</button></form>"#,
                ]
            }
            let shown: HTML =
                secret.map {
                    #"<div class="alert alert-warning" role="status"><p>\#(t("admin.api-keys.once"))</p><p><code id="new-secret">\#($0)</code></p></div>"#
                } ?? ""
            let form = PageKit.form(
                action: "/admin/api-keys",
                """
                \(PageKit.field("name", label: t("admin.name")))
                \(PageKit.field("permissions", label: t("admin.permissions"), hint: t("admin.permissions.hint")))
                """, submit: t("admin.create"))
            return
                "\(shown)\(PageKit.alert(notice))\(table("api-keys", headers: [t("admin.name"), t("admin.prefix"), t("admin.permissions"), t("admin.last_used"), ""], rows: rows))<h2>\(t("admin.api-keys.new"))</h2>\(form)"
        }
    }

    func createAPIKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        do {
            let created = try await APIKeyService(services: services).create(
                .init(name: form["name"] ?? "", permissions: Self.list(form["permissions"]), expiresAt: nil),
                by: context.caller(request))
            return try await apiKeys(request, context, notice: nil, secret: created.secret)
        } catch { return try await apiKeys(request, context, notice: try failure(error)) }
    }

    // MARK: sessions and audit

    func sessions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.sessionsRead)
        let tenant = try context.requireTenant()
        let now = services.clock.now()
        let open = try await services.database.read(tenant: tenant) { tx in
            try await SessionStore().listOpen(user: nil, now: now, limit: 200, before: nil, in: tx)
        }
        return frame(request, context, item: "sessions") { t in
            let rows = open.map { session -> [HTML] in
                [
                    "\(session.userID.description)", "\(session.clientID ?? "")", "\(session.ip ?? "")",
                    "\(RFC3339.string(from: session.lastUsedAt))",
                    #"<form method="post" action="/admin/sessions/\#(session.id.description)/revoke"><button class="button button-small button-danger" type="submit">\#(t("admin.revoke"))</button></form>"#,
                ]
            }
            return table(
                "sessions", headers: [t("admin.user"), t("admin.client"), "IP", t("admin.last_used"), ""], rows: rows)
        }
    }

    func audit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.auditRead)
        let tenant = try context.requireTenant()
        let filter = try AuditFilter.parse(request)
        let (records, verification) = try await services.database.read(tenant: tenant) { tx in
            (
                try await AuditTrail().list(filter: filter, limit: 100, before: nil, in: tx),
                try await AuditTrail().verify(in: tx)
            )
        }
        return frame(request, context, item: "audit") { t in
            let rows = records.map { record -> [HTML] in
                [
                    "\(String(record.sequence))", "\(RFC3339.string(from: record.occurredAt))",
                    "\(record.entry.action)",
                    "\(record.entry.outcome.rawValue)",
                    "\(record.entry.actor.name ?? record.entry.actor.id ?? record.entry.actor.kind)",
                    "\(record.entry.targetType ?? "") \(record.entry.targetID ?? "")", "\(record.entry.ip ?? "")",
                ]
            }
            let state =
                verification.isIntact
                ? PageKit.alert(t("admin.audit.intact"), kind: "success")
                : PageKit.alert(verification.problems.joined(separator: "; "))
            return """
                \(state)<form class="form" method="get" action="/admin/audit">\(PageKit.field("action", label: t("admin.audit.action"), value: filter.actionPrefix ?? "", required: false))
                <div class="form-actions"><button class="button" type="submit">\(t("admin.filter"))</button>
                <a class="button" href="/api/v1/identity/audit/export.csv">\(t("admin.audit.export"))</a></div></form>
                \(table("audit", headers: ["#", t("admin.time"), t("admin.audit.action"), t("admin.outcome"), t("admin.user"), t("admin.target"), "IP"], rows: rows))
                """
        }
    }
}
