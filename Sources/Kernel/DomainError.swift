/// A rule violation or lookup failure in domain code, mapped to problem+json exactly once at the HTTP edge.
public enum DomainError: Error, Equatable, Sendable {
    /// The thing does not exist for this tenant (another tenant's record is reported the same way).
    case notFound(entity: String)
    /// The request conflicts with current state (duplicate, wrong state transition).
    case conflict(String)
    /// Input failed validation; each issue names a field.
    case validation([FieldIssue])
    /// The principal may not do this.
    case forbidden(String)
}

/// One validation failure: `{"field", "code", "message"}` in a problem's `errors` array.
public struct FieldIssue: Hashable, Sendable, Codable {
    public let field: String
    public let code: String
    public let message: String

    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}
