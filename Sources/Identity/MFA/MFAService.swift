import Foundation
import Kernel
import Platform

/// TOTP enrollment of the signed-in user, for the API and the security page: a pending secret, then a first code
/// that turns it on and gives 10 backup codes (shown once).
struct MFAService: Sendable {
    let services: IdentityServices

    /// A pending secret and its `otpauth://` link.
    struct Enrollment: Encodable {
        let secret: String
        let otpauthURI: String
        enum CodingKeys: String, CodingKey {
            case secret
            case otpauthURI = "otpauth_uri"
        }
    }

    /// A new pending secret for the signed-in user (shared by the API and the security page).
    func beginEnrollment(by caller: Caller) async throws -> Enrollment {
        let id = try caller.requireUserID()
        let tenant = caller.tenant
        let secret = TOTP.generateSecret()
        let encoded = Base32.encode(secret)
        let secrets = services.secrets
        let user = try await services.database.write(tenant: tenant) { tx -> User in
            guard let user = try await UserStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "user")
            }
            if user.mfaEnabled { throw DomainError.conflict("two-factor sign-in is already on; turn it off first") }
            try await MFAStore().setPendingSecret(encoded, of: id, secrets: secrets, in: tx)
            return user
        }
        let tenantSlug = try await TenantStore(database: services.database).find(id: tenant)?.slug ?? "inopsio"
        let uri = TOTP(secret: secret).provisioningURI(account: "\(user.email) (\(tenantSlug))", issuer: "Inopsio")
        return Enrollment(secret: encoded, otpauthURI: uri)
    }

    /// Turns TOTP on when `code` is the pending secret's current code; returns the backup codes (shown once).
    func confirmEnrollment(_ code: String, by caller: Caller) async throws -> [String] {
        let id = try caller.requireUserID()
        let tenant = caller.tenant
        let now = services.clock.now()
        let codes = BackupCodes.generate()
        let secrets = services.secrets
        try await services.database.write(tenant: tenant) { tx in
            let store = MFAStore()
            guard let user = try await UserStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "user")
            }
            guard let secret = try await store.pendingSecret(of: id, secrets: secrets, in: tx).flatMap(Base32.decode)
            else {
                throw DomainError.conflict("start the enrollment first")
            }
            guard let step = TOTP(secret: secret).matchingStep(code, at: now, lastUsedStep: nil) else {
                throw DomainError.validation([
                    FieldIssue(field: "code", code: "incorrect", message: "is not the current code of this secret")
                ])
            }
            try await store.enable(of: id, step: step, backupCodeHashes: codes.map(BackupCodes.hash), now: now, in: tx)
            try await AuditTrail().record(
                caller.audit(
                    "mfa.enabled", targetType: "user", targetID: id.description, details: ["method": .string("totp")],
                    actor: actor(user)),
                in: tx, at: now)
        }
        return codes
    }
}
