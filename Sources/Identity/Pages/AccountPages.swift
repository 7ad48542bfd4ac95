import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// The pages anyone reaches before or without signing in: sign-up, accept an invitation, forgot and reset
/// password, confirm an address. Each posts a plain HTML form and works without JavaScript.
struct AccountPages: Sendable {
    let services: IdentityServices
    var kit: PageKit { PageKit(services: services) }
    var signup: SignupService { SignupService(services: services) }
    var invitations: InvitationService { InvitationService(services: services) }

    func register(on routes: RouteRegistrar) {
        routes.get("/signup") { request, context in signupPage(request, context, values: [:], issues: [], message: nil)
        }
        routes.post("/signup") { request, context in try await signup(request, context) }
        routes.get("/invitations/accept") { request, context in
            acceptPage(request, context, token: request.query("token") ?? "", issues: [], message: nil)
        }
        routes.post("/invitations/accept") { request, context in try await accept(request, context) }
        routes.get("/password/forgot") { request, context in forgotPage(request, context, sent: false) }
        routes.post("/password/forgot") { request, context in try await forgot(request, context) }
        routes.get("/password/reset") { request, context in
            resetPage(request, context, token: request.query("token") ?? "", issues: [], message: nil)
        }
        routes.post("/password/reset") { request, context in try await reset(request, context) }
        routes.get("/verify-email") { request, context in try await verify(request, context) }
    }

    func signupPage(
        _ request: Request, _ context: AppRequestContext, values: [String: String], issues: [FieldIssue],
        message: String?
    ) -> Response {
        kit.page(
            request, context, title: "signup.title",
            status: issues.isEmpty && message == nil ? .ok : .unprocessableContent
        ) { t in
            let fields: HTML = """
                \(PageKit.field("tenant_name", label: t("signup.tenant_name"), value: values["tenant_name"] ?? "", issues: issues, autocomplete: "organization"))
                \(PageKit.field("tenant_slug", label: t("signup.tenant_slug"), value: values["tenant_slug"] ?? "", issues: issues, hint: t("signup.tenant_slug.hint")))
                \(PageKit.field("name", label: t("signup.name"), value: values["name"] ?? "", issues: issues, autocomplete: "name"))
                \(PageKit.field("email", label: t("signin.email"), type: "email", value: values["email"] ?? "", issues: issues, autocomplete: "email"))
                \(PageKit.field("password", label: t("signin.password"), type: "password", issues: issues, autocomplete: "new-password", hint: t("password.hint")))
                """
            return """
                <section class="auth-card"><h1>\(t("signup.title"))</h1><p>\(t("signup.lead"))</p>\(PageKit.alert(message))
                \(PageKit.form(action: "/signup", fields, submit: t("signup.submit")))
                <p><a href="/login">\(t("signup.have_account"))</a></p></section>
                """
        }
    }

    func signup(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        do {
            let result = try await signup.createTenant(
                slug: form["tenant_slug"] ?? "", tenantName: form["tenant_name"] ?? "", name: form["name"] ?? "",
                email: form["email"] ?? "", password: form["password"] ?? "", origin: context.origin(request),
                issuer: services.issuer.issuer(for: request))
            // The new admin signs in through the regular flow, with the organisation filled in.
            return PageResponses.redirect("/login", query: [("tenant", result.tenant.slug), ("return_to", "/account")])
        } catch {
            let (fields, message) = PageKit.issues(of: error)
            guard !fields.isEmpty || message != nil else { throw error }
            return signupPage(request, context, values: form, issues: fields, message: message)
        }
    }

    func acceptPage(
        _ request: Request, _ context: AppRequestContext, token: String, issues: [FieldIssue], message: String?
    ) -> Response {
        kit.page(
            request, context, title: "invitation.title", status: message == nil && issues.isEmpty ? .ok : .badRequest
        ) { t in
            let fields: HTML = """
                <input type="hidden" name="token" value="\(token)">
                \(PageKit.field("name", label: t("signup.name"), issues: issues, autocomplete: "name", required: false))
                \(PageKit.field("password", label: t("signin.password"), type: "password", issues: issues, autocomplete: "new-password", hint: t("password.hint")))
                """
            return """
                <section class="auth-card"><h1>\(t("invitation.title"))</h1><p>\(t("invitation.lead"))</p>\(PageKit.alert(message))
                \(PageKit.form(action: "/invitations/accept", fields, submit: t("invitation.submit")))</section>
                """
        }
    }

    func accept(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let token = form["token"] ?? ""
        let name = form["name"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            _ = try await invitations.accept(
                .init(token: token, password: form["password"] ?? "", name: name), origin: context.origin(request),
                issuer: services.issuer.issuer(for: request))
            let tenant = try await ActionTokenStore.tenant(of: token, database: services.database)
            let slug = try await tenant.asyncMap {
                try await TenantStore(database: services.database).find(id: $0)?.slug
            }
            return PageResponses.redirect("/login", query: [("tenant", slug ?? nil), ("return_to", "/account")])
        } catch {
            let (fields, message) = PageKit.issues(of: error)
            guard !fields.isEmpty || message != nil else { throw error }
            return acceptPage(request, context, token: token, issues: fields, message: message)
        }
    }

    func forgotPage(_ request: Request, _ context: AppRequestContext, sent: Bool) -> Response {
        kit.page(request, context, title: "forgot.title") { t in
            let fields: HTML = """
                \(PageKit.field("tenant", label: t("signin.organisation"), value: request.query("tenant") ?? "", autocomplete: "organization"))
                \(PageKit.field("email", label: t("signin.email"), type: "email", autocomplete: "email"))
                """
            return """
                <section class="auth-card"><h1>\(t("forgot.title"))</h1>\(sent ? PageKit.alert(t("forgot.sent"), kind: "success") : "")
                <p>\(t("forgot.lead"))</p>\(PageKit.form(action: "/password/forgot", fields, submit: t("forgot.submit")))</section>
                """
        }
    }

    func forgot(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        try await invitations.requestReset(
            .init(tenant: form["tenant"] ?? "", email: form["email"] ?? ""), origin: context.origin(request),
            issuer: services.issuer.issuer(for: request))
        return forgotPage(request, context, sent: true)
    }

    func resetPage(
        _ request: Request, _ context: AppRequestContext, token: String, issues: [FieldIssue], message: String?
    ) -> Response {
        kit.page(request, context, title: "reset.title", status: message == nil && issues.isEmpty ? .ok : .badRequest) {
            t in
            let fields: HTML = """
                <input type="hidden" name="token" value="\(token)">
                \(PageKit.field("password", label: t("reset.password"), type: "password", issues: issues, autocomplete: "new-password", hint: t("password.hint")))
                """
            return """
                <section class="auth-card"><h1>\(t("reset.title"))</h1>\(PageKit.alert(message))
                \(PageKit.form(action: "/password/reset", fields, submit: t("reset.submit")))</section>
                """
        }
    }

    func reset(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let token = form["token"] ?? ""
        do {
            try await invitations.confirmReset(
                .init(token: token, password: form["password"] ?? ""), origin: context.origin(request))
            return PageResponses.redirect("/login", query: [("return_to", "/account")])
        } catch {
            let (fields, message) = PageKit.issues(of: error)
            guard !fields.isEmpty || message != nil else { throw error }
            return resetPage(request, context, token: token, issues: fields, message: message)
        }
    }

    func verify(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var ok = true
        do {
            try await invitations.verify(.init(token: request.query("token") ?? ""), origin: context.origin(request))
        } catch is Problem {
            ok = false
        }
        return kit.page(request, context, title: "verify.title", status: ok ? .ok : .badRequest) { t in
            """
            <section class="auth-card"><h1>\(t("verify.title"))</h1>\(PageKit.alert(t(ok ? "verify.done" : "verify.failed"), kind: ok ? "success" : "danger"))
            <p><a class="button" href="/account">\(t("verify.continue"))</a></p></section>
            """
        }
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
