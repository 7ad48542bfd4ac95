import Kernel

/// Which ids name users of a tenant: the contract through which a module checks the user references a request
/// carries (owners, assignees, members, recipients) without importing Identity, which implements it over the
/// shared database. Every process has one, whatever modules it serves (`ModuleContext.users`).
package protocol UserDirectory: Sendable {
    /// Those of `ids` that are not users of `tenant` (of any status: a deactivated user may still own records).
    func unknownUsers(_ ids: Set<String>, tenant: TenantID) async throws -> Set<String>
}

extension UserDirectory {
    /// A 422 naming every field whose id is not a user of `tenant` (another tenant's user included); `references`
    /// pairs a field (`owner_id`, `users[2]`) with the id it carries.
    package func requireUsers(_ references: [(field: String, id: String)], tenant: TenantID) async throws {
        guard !references.isEmpty else { return }
        let unknown = try await unknownUsers(Set(references.map(\.id)), tenant: tenant)
        let issues = references.filter { unknown.contains($0.id) }.map {
            FieldIssue(field: $0.field, code: "unknown_reference", message: "is not a user of this organisation")
        }
        if !issues.isEmpty { throw DomainError.validation(issues) }
    }
}
