import Foundation
import Kernel
import Platform

/// Signing sessions out, for the API and the admin pages: your own, or (with `identity.sessions:write`) anyone's.
struct SessionService: Sendable {
    let services: IdentityServices

    /// Revokes a session (its tokens are refused everywhere within about a second). Someone else's session is
    /// reported like a missing one to a caller who may not manage sessions.
    func revoke(_ id: ID<Session>, by caller: Caller) async throws {
        let mayRevokeAny = caller.principal.permissions.contains(.sessionsWrite)
        let user = caller.principal.kind == .user ? ID<User>(caller.principal.subject) : nil
        if !mayRevokeAny && user == nil {
            throw DomainError.forbidden("revoking sessions needs identity.sessions:write")
        }
        let now = services.clock.now()
        try await services.database.audited(
            "session.revoked", target: "session", id: { _ in id.description },
            details: { owner in ["user_id": .string(owner.description)] }, at: now, by: caller
        ) { tx -> ID<User> in
            let store = SessionStore()
            guard let session = try await store.find(id: id, in: tx), mayRevokeAny || session.userID == user,
                try await store.revoke(id, reason: "revoked", now: now, in: tx)
            else { throw DomainError.notFound(entity: "session") }
            return session.userID
        }
    }
}
