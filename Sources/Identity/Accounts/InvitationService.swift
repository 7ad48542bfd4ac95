import Foundation
import Kernel
import Platform

/// Invitations (admins add people by email), password reset by email, and email verification, for the API and
/// the pages. Each mails a single-use link (`issuer` is the base URL of links); the accept, confirm and verify
/// use cases take its token. Without a signed-in caller, these audit the account's user (or no one) as actor.
struct InvitationService: Sendable {
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

    /// Adds an invited user (roles at most the caller's own) and mails them a link to set their password;
    /// `issuer` is the base of the link.
    func invite(_ body: InviteBody, by caller: Caller, issuer: String) async throws -> User {
        try caller.require(.usersWrite)
        let tenantID = caller.tenant
        let principal = caller.principal
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
        let (user, token) = try await services.database.write(tenant: tenantID) { tx in
            let user = try await UserStore().insert(
                email: email, name: name, passwordHash: nil, status: .invited, roles: roles, now: now, in: tx)
            let token = try await ActionTokenStore().issue(.invitation, for: user.id, now: now, in: tx)
            try await AuditTrail().record(
                caller.audit(
                    "user.invited", targetType: "user", targetID: user.id.description,
                    changes: AuditEntry.changes(before: [:], after: user.auditSnapshot)),
                in: tx, at: now)
            return (user, token)
        }
        let organisation = try await TenantStore(database: services.database).find(id: tenantID)?.name ?? ""
        let (subject, text, html) = IdentityMail.invitation(
            to: user, organisation: organisation, inviter: nil,
            link: "\(issuer)/invitations/accept?token=\(token)")
        try await services.mailer.send(to: MailAddress(email, name: name), subject: subject, text: text, html: html)
        return user
    }

    /// Sets the invited user's password: the account becomes active, its email verified (the link proved it).
    func accept(_ body: AcceptBody, origin: RequestOrigin, issuer: String) async throws -> TokenResponse {
        let refused = Self.invalidLink("this invitation link is invalid, used or expired; ask for a new one")
        let now = services.clock.now()
        guard let (tenant, invited) = try await pendingUser(body.token, purpose: .invitation, now: now) else {
            throw refused
        }
        var validation = Validation(issues: PasswordPolicy.issues(password: body.password, email: invited.email))
        if let name = body.name { validation.add(UserRules.nameIssue(name)) }
        try validation.check()
        let hash = try await services.hasher.hash(body.password)
        let key = try await services.tokens.signingKey()
        let tokens = services.tokens
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

    /// Mails a reset link if the account exists and is active (the caller learns nothing either way); at most one
    /// mail per account a minute, and `MailQuota`'s per-address limit (429) before anything is looked up.
    func requestReset(_ body: ResetBody, origin: RequestOrigin, issuer: String) async throws {
        guard let email = EmailAddress.normalise(body.email) else { return }
        let now = services.clock.now()
        // Counted before anything is looked up: a 429 says nothing about whether the account exists.
        try await MailQuota(database: services.database).take(.passwordReset, address: email, user: nil, now: now)
        guard let tenant = try await TenantStore(database: services.database).find(slug: body.tenant.lowercased()),
            tenant.status == .active
        else { return }
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
                to: user, organisation: tenant.name, link: "\(issuer)/password/reset?token=\(token)")
            try await services.mailer.send(
                to: MailAddress(user.email, name: user.name), subject: subject, text: text, html: html)
        }
    }

    /// Sets a new password from a reset link: every session ends, a lock is lifted.
    func confirmReset(_ body: ConfirmBody, origin: RequestOrigin) async throws {
        let refused = Self.invalidLink("this reset link is invalid, used or expired; ask for a new one")
        let now = services.clock.now()
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
    }

    /// Confirms the address a verification link was mailed to.
    func verify(_ body: TokenBody, origin: RequestOrigin) async throws {
        let refused = Self.invalidLink("this confirmation link is invalid, used or expired")
        guard let tenant = try await ActionTokenStore.tenant(of: body.token, database: services.database) else {
            throw refused
        }
        let now = services.clock.now()
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
    }
}
