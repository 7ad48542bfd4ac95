import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// TOTP enrollment for the signed-in user: start (secret + `otpauth://` link), confirm with a first code (which
/// turns it on and returns 10 backup codes, shown once), and turning it off (password required).
struct MFARoutes: Sendable {
    let services: IdentityServices

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
        try JSONResponse.make(
            try await MFAService(services: services).beginEnrollment(by: context.caller(request)), status: .created)
    }

    func confirm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ConfirmBody.self, from: request, context: context)
        let codes = try await MFAService(services: services).confirmEnrollment(body.code, by: context.caller(request))
        return try JSONResponse.make(Confirmed(backupCodes: codes))
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
