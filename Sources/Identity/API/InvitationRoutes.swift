import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Invitations (admins add people by email), password reset by email, and email verification. Each sends a
/// single-use link; the matching `.../accept`, `.../confirm` and `verify-email` endpoints take the token.
struct InvitationRoutes: Sendable {
    let services: IdentityServices

    struct InviteBody: JSONRequestBody {
        let email: String
        let name: String?
        let roles: [String]?
        static let fieldNames: Set<String> = ["email", "name", "roles"]
    }

    struct AcceptBody: JSONRequestBody {
        let token: String
        let password: String
        let name: String?
        static let fieldNames: Set<String> = ["token", "password", "name"]
    }

    struct ResetBody: JSONRequestBody {
        let tenant: String
        let email: String
        static let fieldNames: Set<String> = ["tenant", "email"]
    }

    struct ConfirmBody: JSONRequestBody {
        let token: String
        let password: String
        static let fieldNames: Set<String> = ["token", "password"]
    }

    struct TokenBody: JSONRequestBody {
        let token: String
        static let fieldNames: Set<String> = ["token"]
    }

    func register(on routes: RouteRegistrar) {
        let base = IdentityAPI.base
        routes.get("\(base)/invitations") { request, context in try await list(request, context) }
        routes.post("\(base)/invitations") { request, context in try await invite(request, context) }
        routes.post("\(base)/invitations/accept") { request, context in try await accept(request, context) }
        routes.post("\(base)/password-reset") { request, context in try await requestReset(request, context) }
        routes.post("\(base)/password-reset/confirm") { request, context in try await confirmReset(request, context) }
        routes.post("\(base)/users/me/verify-email") { request, context in
            try await JSONBody.withoutBody(request, context) { try await sendVerification(request, context) }
        }
        routes.post("\(base)/verify-email") { request, context in try await verify(request, context) }
    }

    private func link(_ request: Request, path: String, token: String) -> String {
        "\(services.issuer.issuer(for: request))\(path)?token=\(token)"
    }

    static func invalidLink(_ detail: String) -> Problem {
        Problem(status: .badRequest, type: "/problems/invalid-token", title: "Link not valid", detail: detail)
    }

    /// The tenant and user of a mailed link that can still be used, without using it (so a form can be validated
    /// before the link is spent); `nil` for unknown, used or expired links and suspended tenants.
    private func pendingUser(_ token: String, purpose: ActionTokenStore.Purpose, now: Date) async throws
        -> (TenantID, User)?
    {
        guard let tenant = try await ActionTokenStore.tenant(of: token, database: services.database),
            try await services.tenants.activeTenant(tenant) != nil
        else { return nil }
        let user = try await services.database.read(tenant: tenant) { tx -> User? in
            guard let id = try await ActionTokenStore().peek(token, purpose: purpose, now: now, in: tx) else {
                return nil
            }
            return try await UserStore().find(id: id, in: tx)
        }
        return user.map { (tenant, $0) }
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.usersRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorPosition().flatMap(ID<User>.init)
        let users = try await services.database.read(tenant: tenant) { tx in
            try await UserStore().list(limit: limit + 1, after: after, status: .invited, email: nil, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: users, limit: limit) { $0.id.description })
    }

    func invite(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(InviteBody.self, from: request, context: context)
        let user = try await invite(body, request, context)
        return try JSONResponse.created(user, location: "\(IdentityAPI.base)/users/\(user.id)")
    }

    func invite(_ body: InviteBody, _ request: Request, _ context: AppRequestContext) async throws -> User {
        try context.require(.usersWrite)
        let tenantID = try context.requireTenant()
        let principal = try context.requirePrincipal()
        var validation = Validation()
        validation.add(EmailAddress.issue(body.email))
        let email = EmailAddress.normalise(body.email) ?? body.email
        let name = body.name ?? String(email.split(separator: "@").first ?? "")
        validation.add(UserRules.nameIssue(name))
        let roles = body.roles ?? [BuiltInRole.user.rawValue]
        try validation.check()
        try await services.permissions.checkGrant(roles, tenant: tenantID, by: principal, field: "roles")
        let now = services.clock.now()
        try await MailQuota(database: services.database).take(
            .invitation, address: email, user: principal.subject, now: now)
        let actor = try context.auditActor()
        let origin = context.origin(request)
        let (user, token) = try await services.database.write(tenant: tenantID) { tx in
            let user = try await UserStore().insert(
                email: email, name: name, passwordHash: nil, status: .invited, roles: roles, now: now, in: tx)
            let token = try await ActionTokenStore().issue(.invitation, for: user.id, now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "user.invited", actor: actor, targetType: "user", targetID: user.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(before: [:], after: user.auditSnapshot)),
                in: tx, at: now)
            return (user, token)
        }
        let organisation = try await TenantStore(database: services.database).find(id: tenantID)?.name ?? ""
        let (subject, text, html) = IdentityMail.invitation(
            to: user, organisation: organisation, inviter: nil,
            link: link(request, path: "/invitations/accept", token: token))
        try await services.mailer.send(to: MailAddress(email, name: name), subject: subject, text: text, html: html)
        return user
    }

    /// Sets the invited user's password: the account becomes active, its email verified (the link proved it).
    func accept(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AcceptBody.self, from: request, context: context)
        return try JSONResponse.make(try await accept(body, request, context))
    }

    func accept(_ body: AcceptBody, _ request: Request, _ context: AppRequestContext) async throws -> TokenResponse {
        let refused = Self.invalidLink("this invitation link is invalid, used or expired; ask for a new one")
        let now = services.clock.now()
        guard let (tenant, invited) = try await pendingUser(body.token, purpose: .invitation, now: now) else {
            throw refused
        }
        var validation = Validation(issues: PasswordPolicy.issues(password: body.password, email: invited.email))
        if let name = body.name { validation.add(UserRules.nameIssue(name)) }
        try validation.check()
        let hash = try await services.hasher.hash(body.password)
        let origin = context.origin(request)
        let key = try await services.tokens.signingKey()
        let tokens = services.tokens
        let issuer = services.issuer.issuer(for: request)
        let response = try await services.database.write(tenant: tenant) { tx -> TokenResponse? in
            guard let id = try await ActionTokenStore().consume(body.token, purpose: .invitation, now: now, in: tx),
                var user = try await UserStore().find(id: id, in: tx), user.status == .invited
            else { return nil }
            if let name = body.name { user.name = name }
            user.status = .active
            let before = user
            let saved = try await UserStore().update(user, now: now, in: tx)
            try await UserStore().setPasswordHash(hash, of: id, now: now, in: tx)
            try await UserStore().markEmailVerified(id, now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "invitation.accepted", actor: actor(saved), targetType: "user", targetID: id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(before: before.auditSnapshot, after: saved.auditSnapshot)),
                in: tx, at: now)
            return try await tokens.startSession(
                user: saved, clientID: TokenService.firstPartyClient, scope: TokenService.defaultScope, origin: origin,
                issuer: issuer, key: key, in: tx)
        }
        guard let response else { throw refused }
        return response
    }

    /// Always 202, whether or not the account exists (no enumeration); at most one mail per account a minute, and
    /// `MailQuota`'s per-address limit (429) before anything is looked up.
    func requestReset(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ResetBody.self, from: request, context: context)
        return try await requestReset(body, request, context)
    }

    func requestReset(_ body: ResetBody, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let accepted = try JSONResponse.make(
            ["detail": "if the account exists, a reset link is on its way"], status: .accepted)
        guard let email = EmailAddress.normalise(body.email) else { return accepted }
        let now = services.clock.now()
        // Counted before anything is looked up: a 429 says nothing about whether the account exists.
        try await MailQuota(database: services.database).take(.passwordReset, address: email, user: nil, now: now)
        guard let tenant = try await TenantStore(database: services.database).find(slug: body.tenant.lowercased()),
            tenant.status == .active
        else { return accepted }
        let origin = context.origin(request)
        let issued = try await services.database.write(tenant: tenant.id) { tx -> (User, String)? in
            guard let (user, _) = try await UserStore().findWithCredentials(email: email, in: tx),
                user.status == .active
            else { return nil }
            let store = ActionTokenStore()
            if let last = try await store.lastIssued(.passwordReset, for: user.id, in: tx),
                now.timeIntervalSince(last) < 60
            {
                return nil
            }
            let token = try await store.issue(.passwordReset, for: user.id, now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "password.reset_requested", actor: .anonymous, targetType: "user",
                    targetID: user.id.description, ip: origin.ip, requestID: origin.requestID),
                in: tx, at: now)
            return (user, token)
        }
        if let (user, token) = issued {
            let (subject, text, html) = IdentityMail.passwordReset(
                to: user, organisation: tenant.name, link: link(request, path: "/password/reset", token: token))
            try await services.mailer.send(
                to: MailAddress(user.email, name: user.name), subject: subject, text: text, html: html)
        }
        return accepted
    }

    /// Sets a new password from a reset link: every session ends, a lock is lifted.
    func confirmReset(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ConfirmBody.self, from: request, context: context)
        return try await confirmReset(body, request, context)
    }

    func confirmReset(_ body: ConfirmBody, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let refused = Self.invalidLink("this reset link is invalid, used or expired; ask for a new one")
        let now = services.clock.now()
        let origin = context.origin(request)
        guard let (tenant, account) = try await pendingUser(body.token, purpose: .passwordReset, now: now),
            account.status == .active
        else { throw refused }
        // The policy is checked before the link is used, so a refused password leaves the link working.
        try Validation(issues: PasswordPolicy.issues(password: body.password, email: account.email)).check()
        let hashed = try await services.hasher.hash(body.password)
        let done = try await services.database.write(tenant: tenant) { tx -> Bool in
            guard let id = try await ActionTokenStore().consume(body.token, purpose: .passwordReset, now: now, in: tx),
                let user = try await UserStore().find(id: id, in: tx), user.status == .active
            else { return false }
            try await UserStore().setPasswordHash(hashed, of: id, now: now, in: tx)
            try await UserStore().clearLockout(of: id, in: tx)
            let revoked = try await SessionStore().revokeAll(of: id, reason: "password_reset", now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "password.reset", actor: actor(user), targetType: "user", targetID: id.description,
                    ip: origin.ip, requestID: origin.requestID, details: ["sessions_revoked": .integer(Int64(revoked))]),
                in: tx, at: now)
            return true
        }
        guard done else { throw refused }
        return JSONResponse.noContent()
    }

    func sendVerification(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
        let now = services.clock.now()
        let unverified = try await services.database.read(tenant: tenant) { tx in
            try await UserStore().find(id: id, in: tx).flatMap { $0.emailVerifiedAt == nil ? $0 : nil }
        }
        guard let unverified else { throw DomainError.conflict("your address is already verified") }
        try await MailQuota(database: services.database).take(
            .verification, address: unverified.email, user: id.description, now: now)
        let issued = try await services.database.write(tenant: tenant) { tx -> (User, String)? in
            guard let user = try await UserStore().find(id: id, in: tx), user.emailVerifiedAt == nil else { return nil }
            return (user, try await ActionTokenStore().issue(.emailVerification, for: id, now: now, in: tx))
        }
        guard let (user, token) = issued else { throw DomainError.conflict("your address is already verified") }
        let organisation = try await TenantStore(database: services.database).find(id: tenant)?.name ?? ""
        let (subject, text, html) = IdentityMail.verification(
            to: user, organisation: organisation, link: link(request, path: "/verify-email", token: token))
        try await services.mailer.send(
            to: MailAddress(user.email, name: user.name), subject: subject, text: text, html: html)
        return try JSONResponse.make(["detail": "a confirmation link is on its way"], status: .accepted)
    }

    func verify(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(TokenBody.self, from: request, context: context)
        return try await verify(body, request, context)
    }

    func verify(_ body: TokenBody, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let refused = Self.invalidLink("this confirmation link is invalid, used or expired")
        guard let tenant = try await ActionTokenStore.tenant(of: body.token, database: services.database) else {
            throw refused
        }
        let now = services.clock.now()
        let origin = context.origin(request)
        let verified = try await services.database.write(tenant: tenant) { tx -> Bool in
            guard
                let id = try await ActionTokenStore().consume(
                    body.token, purpose: .emailVerification, now: now, in: tx),
                let user = try await UserStore().find(id: id, in: tx)
            else { return false }
            try await UserStore().markEmailVerified(id, now: now, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "email.verified", actor: actor(user), targetType: "user", targetID: id.description,
                    ip: origin.ip, requestID: origin.requestID),
                in: tx, at: now)
            return true
        }
        guard verified else { throw refused }
        return JSONResponse.noContent()
    }
}
