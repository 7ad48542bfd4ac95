/// A rule violation or lookup failure in domain code, mapped to problem+json exactly once at the HTTP edge.
package enum DomainError: Error, Equatable, Sendable {
    /// The thing does not exist for this tenant (another tenant's record is reported the same way).
    case notFound(entity: String)
    /// The request conflicts with current state (duplicate, wrong state transition).
    case conflict(String)
    /// Input failed validation; each issue names a field.
    case validation([FieldIssue])
    /// The principal may not do this.
    case forbidden(String)
}
