import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/assignment-rules`: who new leads go to (see `AssignmentRule`). Reading needs `crm.leads:read`,
/// changing `crm.admin:manage`. Rules are tried by `position`, then by age.
struct AssignmentRuleRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/assignment-rules"
    static let fieldNames: Set<String> = ["name", "position", "active", "conditions", "method", "users"]

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { _, context in try await list(context) }
        routes.post(RouterPath(Self.path)) { request, context in try await create(request, context) }
        routes.get("\(Self.path)/{id}") { _, context in try await get(context) }
        routes.patch("\(Self.path)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(Self.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
    }

    func list(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let rules = try await services.database.read(tenant: tenant) { tx in try await AssignmentRuleStore().all(in: tx)
        }
        return try JSONResponse.make(Page(data: rules, nextCursor: nil))
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let id = try Self.id(context)
        guard
            let rule = try await services.database.read(
                tenant: tenant, { tx in try await AssignmentRuleStore().find(id, in: tx) })
        else { throw DomainError.notFound(entity: "assignment rule") }
        return try JSONResponse.make(rule, headers: [.eTag: "W/\"\(rule.version)\""])
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let fields = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context), allowed: Self.fieldNames)
        try await services.requireUsers(in: fields, context)
        let now = services.clock.now().storedPrecision
        var rule = AssignmentRule(
            id: .generate(), name: "", position: -1, active: true, conditions: [:], method: .user, users: [],
            nextIndex: 0, version: 1, createdAt: now, updatedAt: now)
        var input = RecordInput(fields)
        if fields["method"] == nil { input.issue("method", "required", "user or round_robin") }
        if fields["users"] == nil { input.issue("users", "required", "the user ids leads go to") }
        try Self.apply(&input, to: &rule)
        let prepared = rule
        let created = try await services.database.audited(
            "crm.assignment_rule.created", target: "assignment_rule", id: { $0.id.description },
            changes: { AuditEntry.changes(before: [:], after: $0.fields) }, at: now, request: request, context: context
        ) { tx in
            try await tx.lockTenant("assignment_rules")
            var rule = prepared
            let existing = try await AssignmentRuleStore().all(in: tx)
            guard existing.count < AssignmentRule.maxRules else {
                throw DomainError.conflict("at most \(AssignmentRule.maxRules) assignment rules")
            }
            if rule.position < 0 { rule.position = (existing.map(\.position).max() ?? -1) + 1 }
            try await Self.checkCustomFields(rule, in: tx)
            try await AssignmentRuleStore().insert(rule, in: tx)
            return rule
        }
        var response = try JSONResponse.created(created, location: "\(Self.path)/\(created.id)")
        response.headers[.eTag] = "W/\"\(created.version)\""
        return response
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let id = try Self.id(context)
        let fields = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context), allowed: Self.fieldNames)
        try await services.requireUsers(in: fields, context)
        let now = services.clock.now().storedPrecision
        let result = try await services.database.audited(
            "crm.assignment_rule.updated", target: "assignment_rule", id: { $0.after.id.description },
            changes: { AuditEntry.changes(before: $0.before.fields, after: $0.after.fields) },
            unchanged: { $0.before.fields == $0.after.fields }, at: now, request: request, context: context
        ) { tx -> (before: AssignmentRule, after: AssignmentRule) in
            guard let stored = try await AssignmentRuleStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "assignment rule")
            }
            try request.checkIfMatch("W/\"\(stored.version)\"")
            var rule = stored
            var input = RecordInput(fields)
            try Self.apply(&input, to: &rule)
            guard rule.fields != stored.fields else { return (stored, stored) }
            if rule.users != stored.users { rule.nextIndex = 0 }
            rule.version += 1
            rule.updatedAt = now
            try await Self.checkCustomFields(rule, in: tx)
            guard try await AssignmentRuleStore().update(rule, expectedVersion: stored.version, in: tx) else {
                throw DomainError.conflict("the rule was changed by another request at the same time; retry")
            }
            return (stored, rule)
        }
        return try JSONResponse.make(result.after, headers: [.eTag: "W/\"\(result.after.version)\""])
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let id = try Self.id(context)
        let now = services.clock.now().storedPrecision
        try await services.database.audited(
            "crm.assignment_rule.deleted", target: "assignment_rule", id: { $0.id.description },
            changes: { AuditEntry.changes(before: $0.fields, after: [:]) }, at: now, request: request, context: context
        ) { tx -> AssignmentRule in
            guard let stored = try await AssignmentRuleStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "assignment rule")
            }
            try await AssignmentRuleStore().delete(id, in: tx)
            return stored
        }
        return JSONResponse.noContent()
    }

    /// Applies a body (merge-patch) to `rule`; 422 naming every bad field.
    static func apply(_ input: inout RecordInput, to rule: inout AssignmentRule) throws {
        if case .some(let name) = input.text("name", max: 100) {
            if let name { rule.name = name } else { input.issue("name", "required", "a rule needs a name") }
        } else if rule.name.isEmpty {
            input.issue("name", "required", "a rule needs a name")
        }
        if case .some(let position) = input.integer("position", in: 0...1_000) {
            if let position { rule.position = position } else { input.issue("position", "required", "0 to 1000") }
        }
        if let value = input.fields["active"] {
            if case .bool(let active) = value {
                rule.active = active
            } else {
                input.issue("active", "invalid_type", "true or false")
            }
        }
        if let value = input.fields["method"] {
            if case .string(let text) = value, let method = AssignmentRule.Method(rawValue: text) {
                rule.method = method
            } else {
                input.issue("method", "invalid_value", "user or round_robin")
            }
        }
        if let value = input.fields["users"] {
            if case .array(let items) = value, (1...AssignmentRule.maxUsers).contains(items.count),
                case let ids = items.compactMap({ item -> String? in
                    if case .string(let text) = item, let id = UUID(uuidString: text) { return id.lowercasedString }
                    return nil
                }), ids.count == items.count, Set(ids).count == ids.count
            {
                rule.users = ids
            } else {
                input.issue("users", "invalid_value", "1 to \(AssignmentRule.maxUsers) different user ids")
            }
        }
        if rule.method == .user && rule.users.count > 1 {
            input.issue("users", "invalid_value", "a rule of method user names exactly one user")
        }
        if let value = input.fields["conditions"] {
            var conditions: [String: String] = [:]
            if case .object(let object) = value, object.count <= 10 {
                for (field, condition) in object {
                    guard AssignmentRule.conditionFields.contains(field) || field.hasPrefix("cf.") else {
                        input.issue(
                            "conditions.\(field)", "invalid_value",
                            "one of " + AssignmentRule.conditionFields.sorted().joined(separator: ", ") + ", cf.<key>")
                        continue
                    }
                    guard case .string(let text) = condition, (1...200).contains(text.count) else {
                        input.issue("conditions.\(field)", "invalid_value", "a value of 1 to 200 characters")
                        continue
                    }
                    if field == "status", LeadStatus(rawValue: text.lowercased()) == nil {
                        input.issue("conditions.status", "invalid_value", "a lead status")
                    }
                    conditions[field] = text
                }
                rule.conditions = conditions
            } else {
                input.issue("conditions", "invalid_value", "an object of at most 10 field: value pairs")
            }
        }
        try input.validation.check()
    }

    /// 422 when a condition names a custom field leads do not have.
    static func checkCustomFields(_ rule: AssignmentRule, in tx: Transaction) async throws {
        let keys = rule.conditions.keys.filter { $0.hasPrefix("cf.") }.map { String($0.dropFirst(3)) }
        guard !keys.isEmpty else { return }
        let defined = Set(try await CustomFieldStore().list(entity: .lead, in: tx).map(\.key))
        let unknown = keys.filter { !defined.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw DomainError.validation(
                unknown.map {
                    FieldIssue(
                        field: "conditions.cf.\($0)", code: "not_found", message: "no such custom field of leads")
                })
        }
    }

    static func id(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: "assignment rule")
        }
        return id
    }
}
