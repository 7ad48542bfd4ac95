import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Tenant settings, OAuth clients and identity providers: the admin pages that configure rather than list.
extension AdminPages {
    func settings(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue], saved: Bool) async throws
        -> Response
    {
        try context.require(.tenantRead)
        let tenantID = try context.requireTenant()
        guard let tenant = try await TenantStore(database: services.database).find(id: tenantID) else {
            throw DomainError.notFound(entity: "tenant")
        }
        let current = try await services.database.read(tenant: tenantID) { tx in
            try await TenantSettingsStore().load(in: tx)
        }
        return kit.page(request, context, title: "admin.settings", status: issues.isEmpty ? .ok : .unprocessableContent)
        { t in
            let fields: HTML = """
                \(PageKit.field("name", label: t("signup.tenant_name"), value: tenant.name, issues: issues))
                \(PageKit.field("locale", label: t("admin.settings.locale"), value: current.locale, issues: issues, hint: "en, fr, ar"))
                \(PageKit.field("time_zone", label: t("account.time_zone"), value: current.timeZone, issues: issues))
                \(PageKit.field("theme_colour", label: t("admin.settings.colour"), value: current.themeColour, issues: issues))
                \(PageKit.field("mfa_required_roles", label: t("admin.settings.mfa"), value: current.mfaRequiredRoles.joined(separator: ", "), issues: issues, required: false, hint: t("admin.settings.mfa.hint")))
                \(PageKit.field("audit_retention_days", label: t("admin.settings.retention"), type: "number", value: String(current.auditRetentionDays), issues: issues))
                """
            return """
                <section class="section">\(Self.menu(t, current: "settings"))<h1>\(t("admin.settings"))</h1>
                \(saved ? PageKit.alert(t("admin.saved"), kind: "success") : "")\(PageKit.form(action: "/admin/settings", fields, submit: t("account.save")))</section>
                """
        }
    }

    func saveSettings(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let body = TenantService.Input(
            name: form["name"], locale: form["locale"], timeZone: form["time_zone"], themeColour: form["theme_colour"],
            enabledModules: nil,
            mfaRequiredRoles: (form["mfa_required_roles"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " })
                .map(String.init),
            auditRetentionDays: form["audit_retention_days"].flatMap { Int($0) })
        do {
            _ = try await TenantService(services: services).update(body, by: context.caller(request))
            return try await settings(request, context, issues: [], saved: true)
        } catch DomainError.validation(let issues) {
            return try await settings(request, context, issues: issues, saved: false)
        }
    }

    func clients(_ request: Request, _ context: AppRequestContext, notice: String?, secret: String? = nil)
        async throws -> Response
    {
        try context.require(.oauthClientsRead)
        let tenant = try context.requireTenant()
        let list = try await services.database.read(tenant: tenant) { tx in
            try await OAuthClientStore().list(includeRevoked: false, in: tx)
        }
        return kit.page(request, context, title: "admin.oauth-clients") { t in
            let rows = list.map { client -> HTML in
                """
                <tr><td>\(client.name)</td><td><code>\(client.clientID)</code></td><td>\(client.type.rawValue)</td>
                <td>\(client.redirectURIs.joined(separator: " "))</td><td>\(client.allowedScopes.joined(separator: " "))</td></tr>
                """
            }
            let shown: HTML =
                secret.map {
                    #"<div class="alert alert-warning" role="status"><p>\#(t("admin.api-keys.once"))</p><p><code id="new-secret">\#($0)</code></p></div>"#
                } ?? ""
            let form = PageKit.form(
                action: "/admin/oauth-clients",
                """
                \(PageKit.field("name", label: t("admin.name")))
                \(PageKit.field("client_type", label: t("admin.oauth.type"), value: "public", hint: "public, confidential"))
                \(PageKit.field("redirect_uris", label: t("admin.oauth.redirects"), required: false))
                \(PageKit.field("allowed_scopes", label: t("admin.oauth.scopes"), value: "openid profile email", required: false))
                """, submit: t("admin.create"))
            return """
                <section class="section">\(Self.menu(t, current: "oauth-clients"))<h1>\(t("admin.oauth-clients"))</h1>\(shown)\(PageKit.alert(notice))
                <div class="table-wrap"><table class="table" id="oauth-clients"><thead><tr><th scope="col">\(t("admin.name"))</th><th scope="col">client_id</th>
                <th scope="col">\(t("admin.oauth.type"))</th><th scope="col">\(t("admin.oauth.redirects"))</th><th scope="col">\(t("admin.oauth.scopes"))</th></tr></thead>
                <tbody>\(rows)</tbody></table></div><h2>\(t("admin.oauth.new"))</h2>\(form)</section>
                """
        }
    }

    func createClient(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let split = { (text: String?) in (text ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        }
        do {
            let created = try await OAuthClientService(services: services).create(
                .init(
                    name: form["name"] ?? "",
                    clientType: OAuthClient.ClientType(rawValue: form["client_type"] ?? "") ?? .public,
                    redirectURIs: split(form["redirect_uris"]), allowedScopes: split(form["allowed_scopes"]),
                    grantTypes: nil),
                by: context.caller(request))
            return try await clients(request, context, notice: nil, secret: created.secret)
        } catch {
            let (fields, message) = PageKit.issues(of: error)
            guard !fields.isEmpty || message != nil else { throw error }
            return try await clients(
                request, context, notice: message ?? fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            )
        }
    }

    func providers(_ request: Request, _ context: AppRequestContext, notice: String?) async throws -> Response {
        try context.require(.providersRead)
        let tenant = try context.requireTenant()
        let list = try await services.database.read(tenant: tenant) { tx in
            try await ProviderStore(secrets: services.secrets).list(in: tx)
        }
        return kit.page(request, context, title: "admin.providers") { t in
            let rows = list.map { provider -> HTML in
                "<tr><td>\(provider.name)</td><td>\(provider.issuer)</td><td>\(provider.defaultRoles.joined(separator: ", "))</td></tr>"
            }
            let form = PageKit.form(
                action: "/admin/providers",
                """
                \(PageKit.field("name", label: t("admin.name")))\(PageKit.field("issuer", label: t("admin.providers.issuer")))
                \(PageKit.field("client_id", label: "client_id"))\(PageKit.field("client_secret", label: "client_secret", type: "password", required: false))
                \(PageKit.field("default_roles", label: t("admin.providers.roles"), value: "user"))
                """, submit: t("admin.create"))
            return """
                <section class="section">\(Self.menu(t, current: "providers"))<h1>\(t("admin.providers"))</h1>\(PageKit.alert(notice))
                <div class="table-wrap"><table class="table" id="providers"><thead><tr><th scope="col">\(t("admin.name"))</th>
                <th scope="col">\(t("admin.providers.issuer"))</th><th scope="col">\(t("admin.providers.roles"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
                <h2>\(t("admin.providers.new"))</h2>\(form)</section>
                """
        }
    }

    func createProvider(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let roles = (form["default_roles"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        do {
            _ = try await ProviderService(services: services).create(
                .init(
                    name: form["name"] ?? "", issuer: form["issuer"] ?? "", clientID: form["client_id"] ?? "",
                    clientSecret: form["client_secret"].flatMap { $0.isEmpty ? nil : $0 }, scopes: nil, roleRules: nil,
                    defaultRoles: roles, createUsers: nil, syncRoles: nil),
                by: context.caller(request))
            return PageResponses.redirect("/admin/providers")
        } catch {
            let (fields, message) = PageKit.issues(of: error)
            guard !fields.isEmpty || message != nil else { throw error }
            return try await providers(
                request, context, notice: message ?? fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            )
        }
    }
}
