import Foundation
import Hummingbird
import Kernel
import Platform

/// The JSON API under `/api/v1/messaging/`.
struct MessagingAPI: Sendable {
    let services: MessagingServices
    static let base = "/api/v1/messaging"

    func register(on routes: RouteRegistrar) {
        TemplateRoutes(services: services).register(on: routes)
        AudienceRoutes(services: services).register(on: routes)
        CampaignRoutes(services: services).register(on: routes)
        MessageRoutes(services: services).register(on: routes)
        WebhookRoutes(services: services).register(on: routes)
        LiveRoutes(services: services, hub: services.hub).register(on: routes)
        OperationsRoutes(services: services).register(on: routes)
        MessagingOpenAPI.register(on: routes)
    }
}

extension MessagingServices {
    /// Runs `body` in a write transaction of the request's tenant and records `action` in the audit log with it.
    func audited<T: Sendable>(
        _ action: String, target: String, id: @escaping @Sendable (T) -> String?, details: [String: JSONValue] = [:],
        request: Request, context: AppRequestContext, _ body: @escaping @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        let tenant = try context.requireTenant()
        let actor = try context.auditActor()
        let origin = context.origin(request)
        let now = clock.now()
        return try await database.write(tenant: tenant) { tx in
            let result = try await body(tx)
            try await AuditTrail().record(
                AuditEntry(
                    action: action, actor: actor, targetType: target, targetID: id(result), ip: origin.ip,
                    requestID: origin.requestID, details: details),
                in: tx, at: now)
            return result
        }
    }
}

extension Request {
    /// The `cursor` parameter as an id to continue after; 400 when it is not one of ours.
    func cursorID<Entity>(_ type: Entity.Type) throws -> ID<Entity>? {
        guard let position = try cursorPosition() else { return nil }
        guard let id = ID<Entity>(position) else {
            throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
        }
        return id
    }
}

/// Checks shared by the API's bodies.
enum Check {
    static func text(_ value: String, field: String, max: Int, into validation: inout Validation) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed.count > max {
            validation.add(FieldIssue(field: field, code: "invalid_length", message: "1 to \(max) characters"))
        }
        return trimmed
    }

    static func email(_ value: String, field: String, into validation: inout Validation) -> MailAddress? {
        guard let address = MailAddress.parse(value), address.address.count <= 254,
            address.address.allSatisfy({ $0.isASCII })
        else {
            validation.add(FieldIssue(field: field, code: "invalid_format", message: "an email address"))
            return nil
        }
        return address
    }

    static func locale(_ value: String?, field: String, into validation: inout Validation) -> String? {
        guard let value else { return nil }
        let valid =
            (2...35).contains(value.count)
            && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        if !valid {
            validation.add(
                FieldIssue(field: field, code: "invalid_format", message: "a BCP 47 language tag (en, de-AT)"))
        }
        return value
    }

    static func key(_ value: String, field: String, into validation: inout Validation) -> String {
        let valid =
            (1...64).contains(value.count)
            && value.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
        if !valid {
            validation.add(
                FieldIssue(field: field, code: "invalid_format", message: "1 to 64 of a-z, 0-9, '.', '_' and '-'"))
        }
        return value
    }
}
