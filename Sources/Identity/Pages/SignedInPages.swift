import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Pages of a signed-in user: the profile, security (two-factor enrollment with a QR code, backup codes) and, for
/// admins, the users list with invitations. Visitors without a session are sent through `/auth/refresh`.
struct SignedInPages: Sendable {
    let services: IdentityServices
    var kit: PageKit { PageKit(services: services) }

    func register(on routes: RouteRegistrar) {
        routes.get("/account") { request, context in
            try await PageResponses.signedIn(request, context) {
                try await account($0.tenant, $0.principal, request, context, message: nil)
            }
        }
        routes.post("/account") { request, context in
            try await PageResponses.signedIn(request, context) {
                try await saveProfile($0.tenant, $0.principal, request, context)
            }
        }
        routes.get("/account/security") { request, context in
            try await PageResponses.signedIn(request, context) {
                try await security($0.tenant, $0.principal, request, context)
            }
        }
        routes.post("/account/password") { request, context in
            try await PageResponses.signedIn(request, context) {
                try await changePassword($0.tenant, $0.principal, request, context)
            }
        }
        routes.post("/account/mfa") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await startMFA(request, context, issues: []) }
        }
        routes.post("/account/mfa/confirm") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await confirmMFA(request, context) }
        }
        routes.get("/admin/users") { request, context in
            try await PageResponses.signedIn(request, context) {
                try await users($0.tenant, $0.principal, request, context, issues: [], message: nil)
            }
        }
        routes.post("/admin/users/invite") { request, context in
            try await PageResponses.signedIn(request, context) {
                try await invite($0.tenant, $0.principal, request, context)
            }
        }
    }

    private func currentUser(_ tenant: TenantID, _ principal: Principal) async throws -> User {
        guard let id = ID<User>(principal.subject),
            let user = try await services.database.read(
                tenant: tenant, { tx in try await UserStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "user") }
        return user
    }

    func account(
        _ tenant: TenantID, _ principal: Principal, _ request: Request, _ context: AppRequestContext, message: String?
    ) async throws -> Response {
        let user = try await currentUser(tenant, principal)
        return kit.page(request, context, title: "account.title") { t in
            let fields: HTML = """
                \(PageKit.field("name", label: t("signup.name"), value: user.name, autocomplete: "name"))
                \(PageKit.field("time_zone", label: t("account.time_zone"), value: user.timeZone ?? "", required: false))
                """
            let verified: HTML =
                user.emailVerifiedAt != nil
                ? #"<span class="badge badge-success">\#(t("account.verified"))</span>"#
                : #"<span class="badge badge-warning">\#(t("account.unverified"))</span>"#
            return """
                <section class="section"><h1>\(t("account.title"))</h1>\(PageKit.alert(message == "saved" ? t("admin.saved") : message, kind: message == "saved" ? "success" : "danger"))
                <p>\(user.email) \(verified)</p><p>\(t("account.roles")): \(user.roles.joined(separator: ", "))</p>
                \(PageKit.form(action: "/account", fields, submit: t("account.save")))
                <p><a href="/account/security">\(t("security.title"))</a></p>
                <form method="post" action="/logout"><button class="button" type="submit">\(t("account.signout"))</button></form></section>
                """
        }
    }

    func saveProfile(_ tenant: TenantID, _ principal: Principal, _ request: Request, _ context: AppRequestContext)
        async throws -> Response
    {
        let form = try await FormBody.decode(request, context: context)
        let zone = form["time_zone"].flatMap { $0.isEmpty ? nil : $0 }
        var validation = Validation()
        validation.add(UserRules.nameIssue(form["name"] ?? ""))
        validation.add(UserRules.timeZoneIssue(zone))
        guard validation.issues.isEmpty, let id = ID<User>(principal.subject) else {
            return try await account(
                tenant, principal, request, context, message: validation.issues.map(\.message).joined(separator: "; "))
        }
        let now = services.clock.now()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            guard var user = try await UserStore().find(id: id, in: tx) else { return }
            let before = user
            user.name = form["name"] ?? user.name
            user.timeZone = zone
            let saved = try await UserStore().update(user, now: now, in: tx)
            let changes = AuditEntry.changes(before: before.auditSnapshot, after: saved.auditSnapshot)
            if !changes.isEmpty {
                try await AuditTrail().record(
                    AuditEntry(
                        action: "user.updated", actor: actor(saved), targetType: "user", targetID: id.description,
                        ip: origin.ip, requestID: origin.requestID, changes: changes),
                    in: tx, at: now)
            }
        }
        return try await account(tenant, principal, request, context, message: "saved")
    }

    func security(
        _ tenant: TenantID, _ principal: Principal, _ request: Request, _ context: AppRequestContext,
        issues: [FieldIssue] = [], notice: String? = nil
    ) async throws -> Response {
        let user = try await currentUser(tenant, principal)
        return kit.page(request, context, title: "security.title") { t in
            let state: HTML =
                user.mfaEnabled
                ? #"<p><span class="badge badge-success">\#(t("security.mfa.on"))</span></p>"#
                : """
                <p>\(t("security.mfa.off"))</p>
                <form method="post" action="/account/mfa"><button class="button button-primary" type="submit" id="start-mfa">\(t("security.mfa.start"))</button></form>
                """
            let password = PageKit.form(
                action: "/account/password",
                """
                \(PageKit.field("current_password", label: t("security.password.current"), type: "password", issues: issues, autocomplete: "current-password"))
                \(PageKit.field("new_password", label: t("reset.password"), type: "password", issues: issues, autocomplete: "new-password", hint: t("password.hint")))
                """, submit: t("reset.submit"))
            return """
                <section class="section"><h1>\(t("security.title"))</h1>\(PageKit.alert(notice == "saved" ? t("admin.saved") : notice, kind: issues.isEmpty ? "success" : "danger"))
                <h2>\(t("security.mfa"))</h2>\(state)<h2>\(t("security.password"))</h2>\(password)</section>
                """
        }
    }

    func changePassword(_ tenant: TenantID, _ principal: Principal, _ request: Request, _ context: AppRequestContext)
        async throws -> Response
    {
        let form = try await FormBody.decode(request, context: context)
        do {
            try await UserService(services: services).changePassword(
                .init(currentPassword: form["current_password"] ?? "", newPassword: form["new_password"] ?? ""),
                by: context.caller(request))
            return try await security(tenant, principal, request, context, notice: "saved")
        } catch DomainError.validation(let issues) {
            return try await security(
                tenant, principal, request, context, issues: issues,
                notice: issues.map(\.message).joined(separator: "; "))
        }
    }

    func startMFA(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        let enrollment = try await MFAService(services: services).beginEnrollment(by: context.caller(request))
        let qr = (try? QRCode(enrollment.otpauthURI).svg(moduleSize: 4, label: "QR code")) ?? ""
        return kit.page(request, context, title: "security.title") { t in
            let fields: HTML = PageKit.field(
                "code", label: t("signin.totp"), issues: issues, autocomplete: "one-time-code",
                hint: t("security.mfa.code_hint"))
            return """
                <section class="section"><h1>\(t("security.mfa"))</h1><p>\(t("security.mfa.scan"))</p>
                <figure class="qr">\(HTML(trusted: qr))</figure>
                <p>\(t("security.mfa.manual"))</p><p><code id="totp-secret" dir="ltr">\(enrollment.secret)</code></p>
                <p><a href="\(enrollment.otpauthURI)" id="otpauth-link">\(t("security.mfa.open_app"))</a></p>
                \(PageKit.form(action: "/account/mfa/confirm", fields, submit: t("security.mfa.confirm")))</section>
                """
        }
    }

    func confirmMFA(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let codes: [String]
        do {
            codes = try await MFAService(services: services).confirmEnrollment(
                form["code"] ?? "", by: context.caller(request))
        } catch DomainError.validation(let issues) {
            return try await retryConfirmation(request, context, issues: issues)
        }
        return kit.page(request, context, title: "security.title") { t in
            let items = codes.map { code -> HTML in "<li><code>\(code)</code></li>" }
            return """
                <section class="section"><h1>\(t("security.mfa"))</h1>\(PageKit.alert(t("security.mfa.enabled"), kind: "success"))
                <p>\(t("security.mfa.backup"))</p><ul class="codes" id="backup-codes" dir="ltr">\(items)</ul>
                <p><a class="button" href="/account">\(t("verify.continue"))</a></p></section>
                """
        }
    }

    /// A wrong first code keeps the pending secret: show the same secret again rather than a new one.
    private func retryConfirmation(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws
        -> Response
    {
        let tenant = try context.requireTenant()
        let id = try context.requireUserID()
        let secrets = services.secrets
        let secret = try await services.database.read(tenant: tenant) { tx in
            try await MFAStore().pendingSecret(of: id, secrets: secrets, in: tx)
        }
        return kit.page(request, context, title: "security.title", status: .unprocessableContent) { t in
            let fields: HTML = PageKit.field(
                "code", label: t("signin.totp"), issues: issues, autocomplete: "one-time-code")
            return """
                <section class="section"><h1>\(t("security.mfa"))</h1><p><code id="totp-secret" dir="ltr">\(secret ?? "")</code></p>
                \(PageKit.form(action: "/account/mfa/confirm", fields, submit: t("security.mfa.confirm")))</section>
                """
        }
    }

    func users(
        _ tenant: TenantID, _ principal: Principal, _ request: Request, _ context: AppRequestContext,
        issues: [FieldIssue], message: String?
    ) async throws -> Response {
        guard principal.permissions.contains(.usersRead) else {
            throw Problem(status: .forbidden, detail: "needs identity.users:read")
        }
        let users = try await services.database.read(tenant: tenant) { tx in
            try await UserStore().list(limit: 200, after: nil, status: nil, email: nil, in: tx)
        }
        let canInvite = principal.permissions.contains(.usersWrite)
        return kit.page(
            request, context, title: "users.title",
            status: issues.isEmpty && message == nil ? .ok : .unprocessableContent
        ) { t in
            let rows = users.map { user -> HTML in
                """
                <tr><td>\(user.name)</td><td>\(user.email)</td><td>\(t("users.status.\(user.status.rawValue)"))</td><td>\(user.roles.joined(separator: ", "))</td></tr>
                """
            }
            let inviteForm: HTML =
                canInvite
                ? """
                <h2>\(t("users.invite"))</h2>\(PageKit.alert(message))
                \(PageKit.form(action: "/admin/users/invite", """
                    \(PageKit.field("email", label: t("signin.email"), type: "email", issues: issues))
                    \(PageKit.field("name", label: t("signup.name"), issues: issues, required: false))
                    """, submit: t("users.invite.submit")))
                """ : ""
            return """
                <section class="section">\(AdminPages.menu(t, current: "users"))<h1>\(t("users.title"))</h1>
                <div class="table-wrap"><table class="table" id="users"><thead><tr><th scope="col">\(t("signup.name"))</th><th scope="col">\(t("signin.email"))</th>
                <th scope="col">\(t("users.status"))</th><th scope="col">\(t("account.roles"))</th></tr></thead><tbody>\(rows)</tbody></table></div>
                \(inviteForm)</section>
                """
        }
    }

    func invite(_ tenant: TenantID, _ principal: Principal, _ request: Request, _ context: AppRequestContext)
        async throws -> Response
    {
        let form = try await FormBody.decode(request, context: context)
        let name = form["name"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            _ = try await InvitationService(services: services).invite(
                .init(email: form["email"] ?? "", name: name, roles: nil), by: context.caller(request),
                issuer: services.issuer.issuer(for: request))
            return PageResponses.redirect("/admin/users")
        } catch {
            let (fields, message) = PageKit.issues(of: error)
            guard !fields.isEmpty || message != nil else { throw error }
            return try await users(tenant, principal, request, context, issues: fields, message: message)
        }
    }
}
