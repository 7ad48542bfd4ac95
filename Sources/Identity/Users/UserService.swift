import Foundation
import Kernel
import Platform

/// A signed-in user's own account, for the API and the account pages.
struct UserService: Sendable {
    let services: IdentityServices

    /// The password change (the JSON body of `POST /users/me/password`).
    struct PasswordBody: JSONRequestBody {
        let currentPassword: String
        let newPassword: String
        static let fieldNames: Set<String> = ["current_password", "new_password"]
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    /// Changes the signed-in user's password (the current one required); every other session of theirs ends.
    func changePassword(_ body: PasswordBody, by caller: Caller) async throws {
        let id = try caller.requireUserID()
        let tenant = caller.tenant
        let principal = caller.principal
        guard
            let found = try await services.database.read(
                tenant: tenant, { tx in try await UserStore().findWithCredentials(id: id, in: tx) }),
            let stored = found.credentials.passwordHash
        else { throw DomainError.notFound(entity: "user") }
        guard case .match = try await services.hasher.verify(body.currentPassword, against: stored) else {
            throw DomainError.validation([
                FieldIssue(field: "current_password", code: "incorrect", message: "is not your current password")
            ])
        }
        try Validation(
            issues: PasswordPolicy.issues(password: body.newPassword, email: found.user.email, field: "new_password")
        )
        .check()
        let hash = try await services.hasher.hash(body.newPassword)
        let now = services.clock.now()
        let keep = principal.sessionID.flatMap(ID<Session>.init)
        try await services.database.write(tenant: tenant) { tx in
            try await UserStore().setPasswordHash(hash, of: id, now: now, in: tx)
            let revoked = try await SessionStore().revokeAll(
                of: id, except: keep, reason: "password_changed", now: now, in: tx)
            try await AuditTrail().record(
                caller.audit(
                    "password.changed", targetType: "user", targetID: id.description,
                    details: ["other_sessions_revoked": .integer(Int64(revoked))], actor: actor(found.user)),
                in: tx, at: now)
        }
    }
}
