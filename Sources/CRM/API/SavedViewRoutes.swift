import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/views`: saved lists. A view holds a list's query string (`status=new&sort=-score`), checked as
/// the list itself would check it. Each user sees their own views and the shared ones (reading that kind of record
/// needs its read permission); only the owner changes a view, the owner or a CRM admin deletes it.
struct SavedViewRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/views"
    static let fieldNames: Set<String> = ["entity", "name", "query", "shared"]

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { request, context in try await list(request, context) }
        routes.post(RouterPath(Self.path)) { request, context in try await create(request, context) }
        routes.get("\(Self.path)/{id}") { _, context in try await get(context) }
        routes.patch("\(Self.path)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(Self.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
    }

    static func readPermission(_ entity: CustomField.Entity) -> Permission {
        entity == .deal ? .crmDealsRead : .crmLeadsRead
    }

    /// Views are lists of CRM records: a caller who may read no kind of record is refused (403) before anything
    /// else; each view then needs its own kind's read permission.
    static func requireSomeRead(_ context: AppRequestContext) throws -> Principal {
        let principal = try context.requirePrincipal()
        guard principal.permissions.contains(.crmLeadsRead) || principal.permissions.contains(.crmDealsRead) else {
            throw Problem(status: .forbidden, detail: "saved views need crm.leads:read or crm.deals:read")
        }
        return principal
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try Self.requireSomeRead(context)
        let tenant = try context.requireTenant()
        var entity: CustomField.Entity?
        if let text = request.query("entity") {
            guard let value = CustomField.Entity(rawValue: text) else {
                throw Problem(
                    status: .badRequest, detail: "entity must be lead, contact, company or deal",
                    errors: [
                        FieldIssue(field: "entity", code: "invalid_value", message: "lead, contact, company or deal")
                    ])
            }
            try context.require(Self.readPermission(value))
            entity = value
        }
        let owner = principal.subject
        let kind = entity
        let views = try await services.database.read(tenant: tenant) { tx in
            try await SavedViewStore().visible(to: owner, entity: kind, in: tx)
        }.filter { principal.permissions.contains(Self.readPermission($0.entity)) }
        return try JSONResponse.make(Page(data: views, nextCursor: nil))
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try Self.requireSomeRead(context)
        let fields = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context), allowed: Self.fieldNames)
        var input = RecordInput(fields)
        guard case .string(let text)? = fields["entity"], let entity = CustomField.Entity(rawValue: text) else {
            input.issue("entity", "required", "lead, contact, company or deal")
            try input.validation.check()
            return Response(status: .badRequest)
        }
        try context.require(Self.readPermission(entity))
        let now = services.clock.now().storedPrecision
        var view = SavedView(
            id: .generate(), ownerID: principal.subject, entity: entity, name: "", query: "", shared: false, version: 1,
            createdAt: now, updatedAt: now)
        try Self.apply(&input, to: &view)
        if view.name.isEmpty { input.issue("name", "required", "a view needs a name") }
        try input.validation.check()
        let prepared = view
        let created = try await Self.duplicateNameIsConflict {
            try await services.database.audited(
                "crm.view.created", target: "view", id: { $0.id.description },
                changes: { AuditEntry.changes(before: [:], after: $0.fields) }, at: now, request: request,
                context: context
            ) { tx in
                // Views are written one at a time per tenant: the name check cannot be overtaken.
                try await tx.lockTenant("views")
                try await Self.checkQuery(prepared, in: tx)
                guard
                    try await SavedViewStore().count(owner: prepared.ownerID, entity: entity, in: tx)
                        < SavedView.maxPerUser
                else {
                    throw DomainError.conflict("at most \(SavedView.maxPerUser) views per user and kind of record")
                }
                try await SavedViewStore().insert(prepared, in: tx)
                return prepared
            }
        }
        var response = try JSONResponse.created(created, location: "\(Self.path)/\(created.id)")
        response.headers[.eTag] = "W/\"\(created.version)\""
        return response
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        let principal = try Self.requireSomeRead(context)
        let tenant = try context.requireTenant()
        let id = try Self.id(context)
        let view = try await services.database.read(tenant: tenant) { tx in try await SavedViewStore().find(id, in: tx)
        }
        guard let view, view.shared || view.ownerID == principal.subject,
            principal.permissions.contains(Self.readPermission(view.entity))
        else { throw DomainError.notFound(entity: "view") }
        return try JSONResponse.make(view, headers: [.eTag: "W/\"\(view.version)\""])
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try Self.requireSomeRead(context)
        let id = try Self.id(context)
        let input = RecordInput(
            try RecordInput.object(
                try await JSONBody.decode(JSONValue.self, from: request, context: context),
                allowed: Self.fieldNames.subtracting(["entity"])))
        let now = services.clock.now().storedPrecision
        let result = try await Self.duplicateNameIsConflict {
            try await services.database.audited(
                "crm.view.updated", target: "view", id: { $0.after.id.description },
                changes: { AuditEntry.changes(before: $0.before.fields, after: $0.after.fields) },
                unchanged: { $0.before == $0.after }, at: now, request: request, context: context
            ) { [input] tx -> (before: SavedView, after: SavedView) in
                var input = input
                guard let stored = try await SavedViewStore().find(id, in: tx),
                    stored.shared || stored.ownerID == principal.subject,
                    principal.permissions.contains(Self.readPermission(stored.entity))
                else { throw DomainError.notFound(entity: "view") }
                guard stored.ownerID == principal.subject else {
                    throw Problem(status: .forbidden, detail: "only its owner changes a view")
                }
                try await tx.lockTenant("views")
                try request.checkIfMatch("W/\"\(stored.version)\"")
                var view = stored
                try Self.apply(&input, to: &view)
                if view.name.isEmpty { input.issue("name", "required", "a view needs a name") }
                try input.validation.check()
                guard view != stored else { return (stored, stored) }
                view.version += 1
                view.updatedAt = now
                try await Self.checkQuery(view, in: tx)
                guard try await SavedViewStore().update(view, expectedVersion: stored.version, in: tx) else {
                    throw DomainError.conflict("the view was changed by another request at the same time; retry")
                }
                return (stored, view)
            }
        }
        return try JSONResponse.make(result.after, headers: [.eTag: "W/\"\(result.after.version)\""])
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try Self.requireSomeRead(context)
        let id = try Self.id(context)
        let now = services.clock.now().storedPrecision
        try await services.database.audited(
            "crm.view.deleted", target: "view", id: { $0.id.description },
            changes: { AuditEntry.changes(before: $0.fields, after: [:]) }, at: now, request: request, context: context
        ) { tx -> SavedView in
            guard let stored = try await SavedViewStore().find(id, in: tx),
                stored.shared || stored.ownerID == principal.subject,
                principal.permissions.contains(Self.readPermission(stored.entity))
            else { throw DomainError.notFound(entity: "view") }
            guard stored.ownerID == principal.subject || principal.permissions.contains(.crmAdmin) else {
                throw Problem(status: .forbidden, detail: "only its owner or a CRM admin deletes a shared view")
            }
            try await SavedViewStore().delete(id, in: tx)
            return stored
        }
        return JSONResponse.noContent()
    }

    static func apply(_ input: inout RecordInput, to view: inout SavedView) throws {
        if case .some(let name) = input.text("name", max: 100) { view.name = name ?? "" }
        if case .some(let query) = input.text("query", max: 2_000) {
            view.query = (query ?? "").hasPrefix("?") ? String((query ?? "").dropFirst()) : (query ?? "")
        }
        if let value = input.fields["shared"] {
            if case .bool(let shared) = value {
                view.shared = shared
            } else {
                input.issue("shared", "invalid_type", "true or false")
            }
        }
        // Only the list's own parameters, each once; no cursor (a view starts at the first page).
        var seen: Set<String> = []
        let allowed = RecordListParameters.parameters(view.entity)
        for pair in view.query.split(separator: "&") where !pair.isEmpty {
            let name = String(pair.prefix { $0 != "=" }).removingPercentEncoding ?? ""
            if !(allowed.contains(name) || name.hasPrefix("cf.")) || !seen.insert(name).inserted {
                input.issue(
                    "query", "invalid_value",
                    "\(name.isEmpty ? "an empty name" : name) is not a parameter of \(view.entity.rawValue) lists, or is given twice"
                )
            }
        }
    }

    /// 422 when the list would refuse the view's query (a bad value, an unknown custom field).
    static func checkQuery(_ view: SavedView, in tx: Transaction) async throws {
        let definitions = try await CustomFieldStore().list(entity: view.entity, in: tx)
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/?" + view.query),
            body: RequestBody(buffer: ByteBuffer()))
        do {
            _ = try RecordListParameters.parse(request, entity: view.entity, definitions: definitions)
            _ = try request.pageLimit()
        } catch let problem as Problem {
            let detail = (problem.errors ?? []).map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            throw DomainError.validation([
                FieldIssue(
                    field: "query", code: "invalid_value", message: detail.isEmpty ? (problem.detail ?? "") : detail)
            ])
        }
    }

    static func duplicateNameIsConflict<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is SavedViewStore.DuplicateName {
            throw DomainError.conflict("you have a view of that name for this kind of record already")
        }
    }

    static func id(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: "view")
        }
        return id
    }
}
