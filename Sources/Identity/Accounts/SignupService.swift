import Foundation
import Kernel
import Platform

/// Signing up a company: its tenant and first admin, for the API and the sign-up page.
struct SignupService: Sendable {
    let services: IdentityServices

    struct SignupResult: Encodable {
        let tenant: Tenant
        let user: User
        let tokens: TokenResponse
    }

    /// Creates a tenant and its first admin in one transaction, starts the admin's session and mails the address
    /// confirmation. Shared by the API and the sign-up page.
    func createTenant(
        slug: String, tenantName: String, name: String, email rawEmail: String, password: String,
        origin: RequestOrigin, issuer: String
    ) async throws -> SignupResult {
        var validation = Validation()
        validation.add(
            TenantRules.validate(slug: slug, name: tenantName, plan: "standard").map { issue in
                FieldIssue(field: "tenant_" + issue.field, code: issue.code, message: issue.message)
            })
        validation.add(UserRules.nameIssue(name))
        validation.add(EmailAddress.issue(rawEmail))
        let email = EmailAddress.normalise(rawEmail) ?? rawEmail
        validation.add(PasswordPolicy.issues(password: password, email: email))
        try validation.check()
        let hash = try await services.hasher.hash(password)
        let now = services.clock.now()
        let tenant = Tenant(
            id: .generate(), slug: slug, name: tenantName, status: .active, plan: "standard",
            createdAt: Date(epochMilliseconds: now.epochMilliseconds))
        let tokens = services.tokens
        let key = try await tokens.signingKey()
        let result = try await services.database.write(tenant: tenant.id) { tx in
            try await TenantStore.insert(tenant, in: tx)
            try await TenantSettingsStore().save(.defaults, now: now, in: tx)
            let user = try await UserStore().insert(
                email: email, name: name, passwordHash: hash, status: .active,
                roles: [BuiltInRole.tenantAdmin.rawValue], now: now, in: tx)
            let trail = AuditTrail()
            try await trail.record(
                AuditEntry(
                    action: "tenant.created", actor: actor(user), targetType: "tenant", targetID: tenant.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(
                        before: [:], after: ["slug": .string(tenant.slug), "name": .string(tenant.name)])),
                in: tx, at: now)
            try await trail.record(
                AuditEntry(
                    action: "user.created", actor: actor(user), targetType: "user", targetID: user.id.description,
                    ip: origin.ip, requestID: origin.requestID,
                    changes: AuditEntry.changes(before: [:], after: user.auditSnapshot)),
                in: tx, at: now)
            let tokenResponse = try await tokens.startSession(
                user: user, clientID: TokenService.firstPartyClient, scope: TokenService.defaultScope, origin: origin,
                issuer: issuer, key: key, in: tx)
            return SignupResult(tenant: tenant, user: user, tokens: tokenResponse)
        }
        await sendVerification(to: result.user, tenant: tenant, issuer: issuer)
        return result
    }

    /// The new admin's address is confirmed by a link; a mail failure does not undo the sign-up (the user can ask
    /// for another link from their profile), it is logged.
    private func sendVerification(to user: User, tenant: Tenant, issuer: String) async {
        do {
            let now = services.clock.now()
            // Sign-ups with someone else's address count against it too (each would mail them).
            try await MailQuota(database: services.database).take(
                .verification, address: user.email, user: user.id.description, now: now)
            let token = try await services.database.write(tenant: tenant.id) { tx in
                try await ActionTokenStore().issue(.emailVerification, for: user.id, now: now, in: tx)
            }
            let link = "\(issuer)/verify-email?token=\(token)"
            let (subject, text, html) = IdentityMail.verification(to: user, organisation: tenant.name, link: link)
            try await services.mailer.send(
                to: MailAddress(user.email, name: user.name), subject: subject, text: text, html: html)
        } catch {
            services.logger.warning(
                "verification mail not sent", metadata: ["error.message": "\(String(reflecting: error))"])
        }
    }
}
