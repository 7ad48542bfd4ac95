import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// TOTP enrollment for the signed-in user: start (secret + `otpauth://` link), confirm with a first code (which
/// turns it on and returns 10 backup codes, shown once), and turning it off (password required).
struct MFARoutes: Sendable {
    let services: IdentityServices

    struct Enrollment: Encodable {
        let secret: String
        let otpauthURI: String
        enum CodingKeys: String, CodingKey {
            case secret
            case otpauthURI = "otpauth_uri"
        }
    }

    struct ConfirmBody: JSONRequestBody {
        let code: String
        static let fieldNames: Set<String> = ["code"]
    }

    struct Confirmed: Encodable {
        let backupCodes: [String]
        enum CodingKeys: String, CodingKey { case backupCodes = "backup_codes" }
    }

    struct DisableBody: JSONRequestBody {
        let password: String
        static let fieldNames: Set<String> = ["password"]
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/users/me/mfa"
        routes.post("\(base)/totp") { request, context in
            try await JSONBody.withoutBody(request, context) { try await start(request, context) }
        }
        routes.post("\(base)/totp/confirm") { request, context in try await confirm(request, context) }
        routes.delete("\(base)/totp") { request, context in try await disable(request, context) }
    }

    func start(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try JSONResponse.make(try await beginEnrollment(context), status: .created)
    }

    /// A new pending secret for the signed-in user (shared by the API and the security page).
    func beginEnrollment(_ context: AppRequestContext) async throws -> Enrollment {
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
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

    func confirm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ConfirmBody.self, from: request, context: context)
        return try JSONResponse.make(Confirmed(backupCodes: try await confirmEnrollment(body.code, request, context)))
    }

    /// Turns TOTP on when `code` is the pending secret's current code; returns the backup codes (shown once).
    func confirmEnrollment(_ code: String, _ request: Request, _ context: AppRequestContext) async throws -> [String] {
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
        let now = services.clock.now()
        let origin = context.origin(request)
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
                AuditEntry(
                    action: "mfa.enabled", actor: actor(user), targetType: "user", targetID: id.description,
                    ip: origin.ip,
                    requestID: origin.requestID, details: ["method": .string("totp")]),
                in: tx, at: now)
        }
        return codes
    }

    func disable(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try context.requireUserID()
        let tenant = try context.requireTenant()
        let body = try await JSONBody.decode(DisableBody.self, from: request, context: context)
        guard
            let found = try await services.database.read(
                tenant: tenant, { tx in try await UserStore().findWithCredentials(id: id, in: tx) }),
            let stored = found.credentials.passwordHash
        else { throw DomainError.notFound(entity: "user") }
        guard case .match = try await services.hasher.verify(body.password, against: stored) else {
            throw DomainError.validation([
                FieldIssue(field: "password", code: "incorrect", message: "is not your current password")
            ])
        }
        let settings = try await services.database.read(tenant: tenant) { tx in
            try await TenantSettingsStore().load(in: tx)
        }
        if settings.requiresMFA(roles: found.user.roles) {
            throw DomainError.conflict("your organisation requires two-factor sign-in for your role")
        }
        let now = services.clock.now()
        let origin = context.origin(request)
        try await services.database.write(tenant: tenant) { tx in
            try await MFAStore().disable(of: id, in: tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: "mfa.disabled", actor: actor(found.user), targetType: "user", targetID: id.description,
                    ip: origin.ip, requestID: origin.requestID),
                in: tx, at: now)
        }
        return JSONResponse.noContent()
    }
}
