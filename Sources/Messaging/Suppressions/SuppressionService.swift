import Foundation
import Kernel
import Platform

/// The suppression list's changes, for the API and the pages: addresses no message goes to.
struct SuppressionService: Sendable {
    let services: MessagingServices

    /// An address to suppress (the JSON body of `POST /suppressions`).
    struct Input: JSONRequestBody {
        let email: String
        let reason: Suppression.Reason?
        let detail: String?
        static let fieldNames: Set<String> = ["email", "reason", "detail"]
    }

    func add(_ input: Input, by caller: Caller) async throws -> Suppression {
        try caller.require(.messagingSuppressionsWrite)
        var validation = Validation()
        let address = Check.email(input.email, field: "email", into: &validation)
        if let detail = input.detail, detail.count > 500 {
            validation.add(FieldIssue(field: "detail", code: "invalid_length", message: "at most 500 characters"))
        }
        try validation.check()
        guard let address else { throw DomainError.validation(validation.issues) }
        let now = services.clock.now()
        let reason = input.reason ?? .manual
        return try await services.database.audited(
            "messaging.suppression.added", target: "suppression", id: { $0.email },
            details: { _ in ["reason": .string(reason.rawValue)] }, at: now, by: caller
        ) { tx -> Suppression in
            try await SuppressionStore().add(
                email: address.address, reason: reason, detail: input.detail, now: now, in: tx)
            guard let entry = try await SuppressionStore().find(email: address.address, in: tx) else {
                throw DomainError.notFound(entity: "suppression")
            }
            return entry
        }
    }

    /// Lets messages go to `email` again; 404 when it was not suppressed and `requireListed`.
    func remove(_ email: String, requireListed: Bool, by caller: Caller) async throws {
        try caller.require(.messagingSuppressionsWrite)
        try await services.database.audited(
            "messaging.suppression.removed", target: "suppression", id: { _ in EmailKey.of(email) },
            at: services.clock.now(), by: caller
        ) { tx in
            guard try await SuppressionStore().remove(email: email, in: tx) || !requireListed else {
                throw DomainError.notFound(entity: "suppression")
            }
        }
    }
}
