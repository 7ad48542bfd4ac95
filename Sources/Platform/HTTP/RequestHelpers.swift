import Foundation
import Hummingbird
import Kernel

/// Where a request came from, as the audit log and sessions record it.
package struct RequestOrigin: Sendable, Equatable {
    package var ip: String?
    package var userAgent: String?
    package var requestID: String?

    package init(ip: String? = nil, userAgent: String? = nil, requestID: String? = nil) {
        self.ip = ip
        self.userAgent = userAgent
        self.requestID = requestID
    }

    package static let commandLine = RequestOrigin()
}

extension AppRequestContext {
    /// Where this request came from, for sessions and the audit log.
    package func origin(_ request: Request) -> RequestOrigin {
        RequestOrigin(ip: remoteAddress, userAgent: request.headers[.userAgent], requestID: requestID)
    }

    /// The audit actor for the authenticated principal.
    package func auditActor() throws -> AuditEntry.Actor {
        let principal = try requirePrincipal()
        return AuditEntry.Actor(kind: principal.kind.rawValue, id: principal.subject)
    }
}

extension ID {
    /// Parses a path parameter; 404 when it is not an id (nothing can exist at that path).
    package static func path(_ context: AppRequestContext, _ name: String = "id", entity: String) throws -> ID {
        guard let text = context.parameters.get(name), let id = ID(text) else {
            throw DomainError.notFound(entity: entity)
        }
        return id
    }
}

/// Collects validation issues and throws them together as one 422.
package struct Validation {
    package var issues: [FieldIssue] = []

    package init(issues: [FieldIssue] = []) {
        self.issues = issues
    }

    package mutating func add(_ issue: FieldIssue?) {
        if let issue { issues.append(issue) }
    }

    package mutating func add(_ more: [FieldIssue]) { issues += more }

    package func check() throws {
        if !issues.isEmpty { throw DomainError.validation(issues) }
    }
}
