import Foundation
import Hummingbird
import Kernel

extension Database {
    /// Runs `body` in a write transaction of the request's tenant and records `action` in the audit log in the same
    /// transaction, so a change and its audit record commit together or not at all. `unchanged` says when `body`
    /// changed nothing, so there is nothing to record.
    @discardableResult
    package func audited<T: Sendable>(
        _ action: String, target: String, id: @escaping @Sendable (T) -> String?,
        changes: @escaping @Sendable (T) -> [String: AuditEntry.Change] = { _ in [:] },
        details: @escaping @Sendable (T) -> [String: JSONValue] = { _ in [:] },
        unchanged: @escaping @Sendable (T) -> Bool = { _ in false }, at now: Date, request: Request,
        context: AppRequestContext, _ body: @escaping @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await audited(
            action, target: target, id: id, changes: changes, details: details, unchanged: unchanged, at: now,
            by: context.caller(request), body)
    }

    /// Runs `body` in a write transaction of the caller's tenant and records `action` by the caller in the audit
    /// log in the same transaction (a service's form of the above: it has a caller, not a request).
    @discardableResult
    package func audited<T: Sendable>(
        _ action: String, target: String, id: @escaping @Sendable (T) -> String?,
        changes: @escaping @Sendable (T) -> [String: AuditEntry.Change] = { _ in [:] },
        details: @escaping @Sendable (T) -> [String: JSONValue] = { _ in [:] },
        unchanged: @escaping @Sendable (T) -> Bool = { _ in false }, at now: Date, by caller: Caller,
        _ body: @escaping @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await write(tenant: caller.tenant) { tx in
            let result = try await body(tx)
            if unchanged(result) { return result }
            try await AuditTrail().record(
                caller.audit(
                    action, targetType: target, targetID: id(result), changes: changes(result),
                    details: details(result)),
                in: tx, at: now)
            return result
        }
    }
}
