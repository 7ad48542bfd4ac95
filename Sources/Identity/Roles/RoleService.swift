import Foundation
import Kernel
import Platform

/// Custom roles' use cases shared by the API and the admin pages (creating one), and the rules every change of a
/// role follows.
struct RoleService: Sendable {
    let services: IdentityServices

    /// A role's fields (the JSON body of `POST`/`PATCH /roles`).
    struct Input: JSONRequestBody {
        let name: String?
        let description: String?
        let permissions: [String]?
        static let fieldNames: Set<String> = ["name", "description", "permissions"]
    }

    /// Permissions named in an input: each must be declared by a module and held by `holder` (no one grants
    /// what they do not have).
    static func permissions(_ texts: [String], catalog: [Permission], holder: Principal) throws -> [Permission] {
        var validation = Validation()
        var result: [Permission] = []
        for text in texts {
            guard let permission = Permission(text), catalog.contains(permission) else {
                validation.add(
                    FieldIssue(field: "permissions", code: "invalid_value", message: "no permission \(text)"))
                continue
            }
            result.append(permission)
        }
        try validation.check()
        if !Set(result).isSubset(of: holder.permissions) {
            throw DomainError.forbidden("a role cannot grant permissions you do not hold")
        }
        return Array(Set(result)).sorted { $0.description < $1.description }
    }

    /// What the audit log records of a role.
    static func snapshot(_ role: Role) -> [String: JSONValue] {
        [
            "description": .string(role.description),
            "permissions": .array(role.permissions.map { .string($0.description) }),
        ]
    }

    func create(_ input: Input, by caller: Caller) async throws -> Role {
        try caller.require(.rolesWrite)
        var validation = Validation()
        guard let name = input.name else {
            throw DomainError.validation([FieldIssue(field: "name", code: "required", message: "is required")])
        }
        validation.add(Role.nameIssue(name))
        let description = input.description ?? ""
        if description.count > 500 {
            validation.add(FieldIssue(field: "description", code: "too_long", message: "at most 500 characters"))
        }
        try validation.check()
        let role = Role(
            name: name, description: description,
            permissions: try Self.permissions(
                input.permissions ?? [], catalog: services.permissions.catalog, holder: caller.principal),
            builtIn: false)
        let now = services.clock.now()
        try await services.database.audited(
            "role.created", target: "role", id: { _ in name },
            changes: { _ in AuditEntry.changes(before: [:], after: Self.snapshot(role)) }, at: now, by: caller
        ) { tx in try await RoleStore().insert(role, now: now, in: tx) }
        services.permissions.invalidate(tenant: caller.tenant)
        return role
    }
}
