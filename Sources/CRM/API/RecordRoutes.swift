import Foundation
import Hummingbird
import Kernel
import Platform

/// The JSON routes of one kind of record: create (409 naming the record that has a unique value), read, list with
/// filters, sort and cursor, merge-patch with `If-Match`, delete (`crm.admin:manage`). Every change commits its
/// events and audit record with it.
struct RecordRoutes<Record: CRMRecord>: Sendable {
    let services: CRMServices
    let kind: RecordKind<Record>

    func register(on routes: RouteRegistrar) {
        RecordExport(services: services, kind: kind).register(on: routes)
        routes.get(RouterPath(kind.path)) { request, context in try await list(request, context) }
        routes.post(RouterPath(kind.path)) { request, context in try await createResponse(request, context) }
        routes.get("\(kind.path)/{id}") { _, context in try await get(context) }
        routes.patch("\(kind.path)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(kind.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
        routes.post("\(kind.path)/bulk") { request, context in try await bulk(request, context) }
    }

    func createResponse(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let fields = try await body(request, context)
        let record = try await Self.conflictOnDuplicate { try await create(fields, request, context) }
        var response = try JSONResponse.created(record, location: "\(kind.path)/\(record.uuid.lowercasedString)")
        response.headers[.eTag] = record.etag
        return response
    }

    /// The request's body as an object of this record's fields (400 otherwise), once the caller may write (403
    /// comes before anything about the body).
    func body(_ request: Request, _ context: AppRequestContext) async throws -> [String: JSONValue] {
        try context.require(kind.write)
        let fields = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context), allowed: kind.fieldNames)
        try await services.requireUsers(in: fields, context)
        return fields
    }

    /// Creates a record from `fields`; `RecordStore.Duplicate` when a unique value is taken.
    func create(_ fields: [String: JSONValue], _ request: Request, _ context: AppRequestContext) async throws -> Record
    {
        try context.require(kind.write)
        let principal = try context.requirePrincipal()
        let now = services.clock.now().storedPrecision
        let kind = self.kind
        let owner = principal.kind == .user ? principal.subject : nil
        let trace = context.trace?.header
        let actor = principal.subject
        let created = try await services.database.audited(
            "crm.\(kind.name).created", target: kind.name, id: { $0.uuid.lowercasedString },
            changes: { AuditEntry.changes(before: [:], after: $0.fields) }, at: now, request: request,
            context: context
        ) { tx in
            // In the write's own transaction, and only when the body sets custom fields.
            let definitions =
                fields["custom_fields"] == nil ? [] : try await CustomFieldStore().list(entity: kind.entity, in: tx)
            return try await kind.create(
                fields, definitions: definitions, owner: owner, actor: actor, now: now, trace: trace, in: tx)
        }
        await services.changed(try context.requireTenant())
        return created
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(kind.write)
        let id = try path(context)
        let fields = try await body(request, context)
        let kind = self.kind
        let record = try await Self.conflictOnDuplicate {
            try await change(id, request, context, action: "crm.\(kind.name).updated", merged: false) {
                record, definitions in
                try request.checkIfMatch(record.etag)
                try kind.apply(fields, &record, definitions, false)
            }
        }
        return try JSONResponse.make(record, headers: [.eTag: record.etag])
    }

    /// Reads record `id`, lets `edit` change it, and writes it with its audit record and events in one
    /// transaction. Nothing is written when nothing changed.
    func change(
        _ id: UUID, _ request: Request, _ context: AppRequestContext, action: String, merged: Bool,
        _ edit: @escaping @Sendable (inout Record, [CustomField]) throws -> Void
    ) async throws -> Record {
        let now = services.clock.now().storedPrecision
        let trace = context.trace?.header
        let kind = self.kind
        let actor = try context.requirePrincipal().subject
        let result = try await services.database.audited(
            action, target: kind.name, id: { $0.record.uuid.lowercasedString },
            changes: { AuditEntry.changes(before: $0.before, after: $0.record.fields) },
            unchanged: { $0.before == $0.record.fields }, at: now, request: request, context: context
        ) { tx -> (record: Record, before: [String: JSONValue]) in
            guard let stored = try await RecordStore<Record>().find(id, in: tx) else {
                throw DomainError.notFound(entity: kind.name)
            }
            let definitions = try await CustomFieldStore().list(entity: kind.entity, in: tx)
            var record = stored
            try edit(&record, definitions)
            record = try await kind.write(
                record, over: stored, actor: actor, now: now, trace: trace, merged: merged, in: tx)
            return (record, stored.fields)
        }
        await services.changed(try context.requireTenant())
        return result.record
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(kind.read)
        let tenant = try context.requireTenant()
        let id = try path(context)
        guard
            let record = try await services.database.read(
                tenant: tenant, { tx in try await RecordStore<Record>().find(id, in: tx) })
        else { throw DomainError.notFound(entity: kind.name) }
        return try JSONResponse.make(record, headers: [.eTag: record.etag])
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await delete(try path(context), request, context, checkingIfMatch: true)
        return JSONResponse.noContent()
    }

    func delete(_ id: UUID, _ request: Request, _ context: AppRequestContext, checkingIfMatch: Bool) async throws {
        try context.require(.crmAdmin)
        let trace = context.trace?.header
        let kind = self.kind
        let now = services.clock.now().storedPrecision
        try await services.database.audited(
            "crm.\(kind.name).deleted", target: kind.name, id: { _ in id.lowercasedString },
            changes: { AuditEntry.changes(before: $0.fields, after: [:]) }, at: now,
            request: request, context: context
        ) { tx -> Record in
            guard let stored = try await RecordStore<Record>().find(id, in: tx) else {
                throw DomainError.notFound(entity: kind.name)
            }
            if checkingIfMatch { try request.checkIfMatch(stored.etag) }
            try await kind.beforeDelete(stored, now, trace, tx)
            try await ActivityStore().removeTarget(Activity.Target(type: kind.entity, id: id), now: now, in: tx)
            guard let deleted = try await RecordStore<Record>().delete(id, in: tx) else {
                throw DomainError.notFound(entity: kind.name)
            }
            try await CRMEvents.append(
                "crm.\(kind.name).deleted", ["id": id.lowercasedString], entity: kind.name, id: id, traceparent: trace,
                in: tx)
            return deleted
        }
        await services.changed(try context.requireTenant())
    }

    /// One record's outcome in a bulk change.
    struct BulkResult: Encodable, Sendable {
        let id: String
        let status: Int
        let detail: String?
        let errors: [FieldIssue]?
    }

    /// `POST /{records}/bulk` `{"ids": [...], "patch": {...}, "add_tags": [...]}` or `{"ids": [...], "delete": true}`: up to 500
    /// records, each changed (merge-patch, as `PATCH` would) or deleted (`crm.admin:manage`) in its own transaction
    /// with its own audit record and events; the answer lists each record's outcome (the HTTP status it would have
    /// had alone, and the problem).
    func bulk(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        // Changing needs the kind's write permission, deleting the CRM admin's: a caller with neither is refused
        // before anything about the body; the one the body asks for is checked once it is known.
        let permissions = try context.requirePrincipal().permissions
        if !permissions.contains(kind.write) && !permissions.contains(.crmAdmin) { try context.require(kind.write) }
        let body = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context),
            allowed: ["ids", "patch", "add_tags", "delete"])
        var validation = Validation()
        var ids: [UUID] = []
        if case .array(let items)? = body["ids"], (1...500).contains(items.count) {
            for item in items {
                if case .string(let text) = item, let id = UUID(uuidString: text) {
                    if !ids.contains(id) { ids.append(id) }
                } else {
                    validation.add(FieldIssue(field: "ids", code: "invalid_value", message: "record ids"))
                    break
                }
            }
        } else {
            validation.add(FieldIssue(field: "ids", code: "invalid_value", message: "1 to 500 record ids"))
        }
        var patch: [String: JSONValue]?
        var addTags: [String] = []
        if let value = body["add_tags"] {
            if case .array(let items) = value, (1...20).contains(items.count),
                case let tags = items.compactMap({ item -> String? in
                    if case .string(let text) = item { return text.trimmingCharacters(in: .whitespaces).lowercased() }
                    return nil
                }), tags.count == items.count, tags.allSatisfy({ (1...50).contains($0.count) })
            {
                addTags = tags
                if body["patch"] == nil && body["delete"] == nil { patch = [:] }
            } else {
                validation.add(FieldIssue(field: "add_tags", code: "invalid_value", message: "1 to 20 tags to add"))
            }
        }
        switch (body["patch"], body["delete"]) {
        case (nil, nil) where patch != nil: break
        case (.object(let fields)?, nil):
            let unknown = Set(fields.keys).subtracting(kind.fieldNames).sorted()
            if unknown.isEmpty && !fields.isEmpty {
                patch = fields
            } else {
                validation.add(
                    FieldIssue(field: "patch", code: "invalid_value", message: "fields of the \(kind.name) to change"))
            }
        case (nil, .bool(true)?) where addTags.isEmpty: break
        default:
            validation.add(
                FieldIssue(field: "patch", code: "required", message: "either patch (an object) or delete: true"))
        }
        try validation.check()
        try context.require(patch == nil ? .crmAdmin : kind.write)
        if let patch { try await services.requireUsers(in: patch, prefix: "patch.", context) }
        let kind = self.kind
        var results: [BulkResult] = []
        for id in ids {
            do {
                if let patch {
                    let tags = addTags
                    _ = try await Self.conflictOnDuplicate {
                        try await change(id, request, context, action: "crm.\(kind.name).updated", merged: false) {
                            record, definitions in
                            var fields = patch
                            if !tags.isEmpty {
                                // Added to the tags the patch sets, or else to the record's own.
                                var base = record.tags
                                if case .array(let given)? = fields["tags"] {
                                    base = given.compactMap {
                                        if case .string(let tag) = $0 { tag.lowercased() } else { nil }
                                    }
                                }
                                let kept = base + tags.filter { !base.contains($0) }
                                fields["tags"] = .array(kept.map(JSONValue.string))
                            }
                            try kind.apply(fields, &record, definitions, false)
                        }
                    }
                    results.append(BulkResult(id: id.lowercasedString, status: 200, detail: nil, errors: nil))
                } else {
                    try await delete(id, request, context, checkingIfMatch: false)
                    results.append(BulkResult(id: id.lowercasedString, status: 204, detail: nil, errors: nil))
                }
            } catch {
                let problem = Problem.describing(error)
                guard problem.status.kind == .clientError else { throw error }
                results.append(
                    BulkResult(
                        id: id.lowercasedString, status: problem.status.code, detail: problem.detail,
                        errors: problem.errors))
            }
        }
        let failed = results.filter { $0.status >= 400 }.count
        return try JSONResponse.make(
            BulkAnswer(results: results, succeeded: results.count - failed, failed: failed))
    }

    struct BulkAnswer: Encodable, Sendable {
        let results: [BulkResult]
        let succeeded: Int
        let failed: Int
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(kind.read)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let includeTotal = request.query("include_total") == "true"
        let entity = kind.entity
        // The definitions are read only when a custom field is filtered on.
        let filtersCustomFields = request.uri.queryParameters.contains { $0.key.hasPrefix("cf.") }
        let (records, total, query) = try await services.database.read(tenant: tenant) { tx in
            let definitions = filtersCustomFields ? try await CustomFieldStore().list(entity: entity, in: tx) : []
            let query = try RecordListParameters.parse(request, entity: entity, definitions: definitions)
            let records = try await RecordStore<Record>().list(query, limit: limit + 1, in: tx)
            let total = includeTotal ? try await query.count(in: tx) : nil
            return (records, total, query)
        }
        let kept = Array(records.prefix(limit))
        let next = records.count > limit ? kept.last.map { Cursor(position: $0.position(in: query).text) } : nil
        return try JSONResponse.make(Page(data: kept, nextCursor: next, total: total))
    }

    /// The `{id}` of the path; 404 when it is not an id.
    func path(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: kind.name)
        }
        return id
    }

    /// Runs `body`, answering a duplicate unique value with 409.
    static func conflictOnDuplicate<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let duplicate as RecordStore<Record>.Duplicate {
            throw conflict(duplicate)
        }
    }

    /// 409 naming the record that already has the value.
    static func conflict(_ duplicate: RecordStore<Record>.Duplicate) -> Problem {
        let id = duplicate.existing.uuid.lowercasedString
        let name = Record.entity.rawValue
        var problem = Problem(
            status: .conflict, type: "/problems/duplicate", title: "Duplicate \(name)",
            detail: "\(name) \(id) already has this \(duplicate.field)"
                + (Record.entity == .lead ? "; send on_duplicate=merge to add these details to it" : ""),
            errors: [FieldIssue(field: duplicate.field, code: "duplicate", message: "\(name) \(id) has it")])
        problem.extensions = ["existing_id": .string(id), "field": .string(duplicate.field)]
        return problem
    }
}
