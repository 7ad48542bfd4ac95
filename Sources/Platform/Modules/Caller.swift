import Foundation
import Hummingbird
import Kernel

/// Who asks a module's service for something: the tenant, the principal acting, and where the request came from
/// (for the audit log). Routes and pages make one from the request (`context.caller(request)`); a job makes one
/// for the principal it acts for. A service takes a caller and typed input, never an HTTP request.
package struct Caller: Sendable {
    package let tenant: TenantID
    package let principal: Principal
    package let origin: RequestOrigin

    package init(tenant: TenantID, principal: Principal, origin: RequestOrigin) {
        self.tenant = tenant
        self.principal = principal
        self.origin = origin
    }

    /// An audit entry of this caller's action, to record in the transaction that makes the change; `actor` when
    /// the service knows more of the caller than the principal says (a user's address).
    package func audit(
        _ action: String, targetType: String, targetID: String?, changes: [String: AuditEntry.Change] = [:],
        details: [String: JSONValue] = [:], actor: AuditEntry.Actor? = nil
    ) -> AuditEntry {
        AuditEntry(
            action: action, actor: actor ?? AuditEntry.Actor(kind: principal.kind.rawValue, id: principal.subject),
            targetType: targetType, targetID: targetID, ip: origin.ip, requestID: origin.requestID, changes: changes,
            details: details)
    }

    /// 403 unless the caller holds `permission`.
    package func require(_ permission: Permission) throws {
        try principal.require(permission)
    }
}

extension AppRequestContext {
    /// The request's caller: 401 without a principal or a tenant.
    package func caller(_ request: Request) throws -> Caller {
        Caller(tenant: try requireTenant(), principal: try requirePrincipal(), origin: origin(request))
    }
}
