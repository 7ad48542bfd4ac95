import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/imports`: CSV imports of leads, contacts and companies.
///
/// 1. `POST /imports?entity=lead&filename=people.csv` with the file as the body (`text/csv`, UTF-8, up to the
///    process's `max_body_bytes` (1 MiB by default) and at most 20 MB, 100,000 rows, a header line first): the
///    import, its columns and a suggested mapping.
/// 2. `POST /imports/{id}/start` `{"mapping": {"E-mail": "email", ...}, "dry_run": true, "on_duplicate": "skip"}`:
///    202; the `crm.import` job runs it (see `ImportJob`). A dry run may be followed by more dry runs or the import.
/// 3. `GET /imports/{id}` for its progress, `GET /imports/{id}/errors` for every rejected row and why.
///
/// Needs the write permission of that kind of record (`crm.leads:write`); the files stay with the import.
struct ImportRoutes: Sendable {
    let services: CRMServices
    static let path = CRMPaths.imports
    static let maxBytes = 20 * 1_048_576

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { request, context in try await list(request, context) }
        routes.post(RouterPath(Self.path)) { request, context in try await upload(request, context) }
        routes.get("\(Self.path)/{id}") { _, context in try await get(context) }
        routes.post("\(Self.path)/{id}/start") { request, context in try await start(request, context) }
        routes.get("\(Self.path)/{id}/errors") { request, context in try await errors(request, context) }
    }

    func upload(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsWrite)
        let principal = try context.requirePrincipal()
        guard let text = request.query("entity"), let entity = CustomField.Entity(rawValue: text), entity != .deal
        else {
            throw Problem(
                status: .badRequest, detail: "entity must be lead, contact or company",
                errors: [FieldIssue(field: "entity", code: "invalid_value", message: "lead, contact or company")])
        }
        if let type = request.headers[.contentType]?.lowercased(), !type.hasPrefix("text/csv"),
            !type.hasPrefix("text/plain")
        {
            throw Problem(status: .unsupportedMediaType, detail: "send the file as text/csv")
        }
        let filename = String((request.query("filename") ?? "import.csv").prefix(200))
        var body = request
        // The process's body limit (`max_body_bytes`, 1 MiB by default) applies first; 20 MB at most.
        let buffer = try await body.collectBody(upTo: min(context.maxUploadSize, Self.maxBytes))
        guard let content = String(validating: Data(buffer: buffer), as: UTF8.self),
            !content.unicodeScalars.contains("\u{0}"), !filename.unicodeScalars.contains(where: { $0.value < 0x20 })
        else {
            throw Problem(status: .unprocessableContent, detail: "the file is not UTF-8 text (or holds NUL characters)")
        }
        let records: [[String]]
        do {
            records = try CSV.parse(content)
        } catch {
            throw Problem(status: .unprocessableContent, detail: "the file is not valid CSV: \(error)")
        }
        guard let header = records.first else {
            throw Problem(status: .unprocessableContent, detail: "the file is empty; its first line names the columns")
        }
        let columns = header.map { $0.trimmingCharacters(in: .whitespaces) }
        var validation = Validation()
        if columns.count > CRMImport.maxColumns || Set(columns).count != columns.count || columns.contains("") {
            validation.add(
                FieldIssue(
                    field: "columns", code: "invalid_value",
                    message: "at most \(CRMImport.maxColumns) columns, each with a different, non-empty name"))
        }
        if records.count - 1 > CRMImport.maxRows {
            validation.add(FieldIssue(field: "rows", code: "too_many", message: "at most \(CRMImport.maxRows) rows"))
        }
        if records.count < 2 {
            validation.add(
                FieldIssue(field: "rows", code: "required", message: "the file has no rows under its header"))
        }
        try validation.check()
        let now = services.clock.now().storedPrecision
        let item = CRMImport(
            id: .generate(), entity: entity, filename: filename, columns: columns, rowCount: records.count - 1,
            status: .uploaded, dryRun: true, mapping: CRMImport.suggestedMapping(columns, entity: entity),
            onDuplicate: .skip, progress: CRMImport.Progress(), error: nil, createdBy: principal.subject,
            defaultOwner: principal.kind == .user ? principal.subject : nil, createdAt: now,
            startedAt: nil, finishedAt: nil)
        try await services.database.audited(
            "crm.import.uploaded", target: "import", id: { _ in item.id.description },
            details: { _ in ["filename": .string(filename), "rows": .integer(Int64(item.rowCount))] }, at: now,
            request: request, context: context
        ) { tx in try await ImportStore().insert(item, content: content, in: tx) }
        return try JSONResponse.created(item, location: "\(Self.path)/\(item.id)")
    }

    func start(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsWrite)
        let id = try Self.id(context)
        let body = try await JSONBody.decode(JSONValue.self, from: request, context: context)
        let fields = try RecordInput.object(body, allowed: ["mapping", "dry_run", "on_duplicate"])
        let now = services.clock.now().storedPrecision
        let started = try await services.database.audited(
            "crm.import.started", target: "import", id: { $0.id.description },
            details: { ["dry_run": .bool($0.dryRun), "mapping": .object($0.mapping.mapValues(JSONValue.string))] },
            at: now, request: request, context: context
        ) { tx -> CRMImport in
            // One start at a time per tenant: two racing starts cannot both pass the status check.
            try await tx.lockTenant("imports")
            guard var item = try await ImportStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "import")
            }
            switch item.status {
            case .queued, .running: throw DomainError.conflict("the import is running; wait for it to finish")
            case .done where !item.dryRun: throw DomainError.conflict("the import has run; upload the file again")
            default: break  // uploaded, a finished dry run, or failed (started again, the rows imported are recognised)
            }
            let definitions = try await CustomFieldStore().list(entity: item.entity, in: tx)
            try Self.apply(fields, to: &item, definitions: definitions)
            item.status = .queued
            item.progress = CRMImport.Progress()
            item.error = nil
            item.startedAt = nil
            item.finishedAt = nil
            try await ImportStore().clearErrors(of: id, in: tx)
            try await ImportStore().save(item, in: tx)
            guard try await ImportJob.enqueue(id, in: tx, now: now) else {
                throw DomainError.conflict("the import's previous run is still finishing; try again in a moment")
            }
            return item
        }
        return try JSONResponse.make(started, status: .accepted, headers: [.location: "\(Self.path)/\(started.id)"])
    }

    /// The mapping, dry run and duplicate handling of a start; 422 naming every problem.
    static func apply(_ fields: [String: JSONValue], to item: inout CRMImport, definitions: [CustomField]) throws {
        var validation = Validation()
        if let value = fields["mapping"] {
            var mapping: [String: String] = [:]
            if case .object(let object) = value {
                let allowed = Set(CRMImport.fields(item.entity))
                for (column, target) in object {
                    guard item.columns.contains(column) else {
                        validation.add(
                            FieldIssue(field: "mapping.\(column)", code: "not_found", message: "no such column"))
                        continue
                    }
                    guard case .string(let field) = target else {
                        if target != .null {
                            validation.add(
                                FieldIssue(
                                    field: "mapping.\(column)", code: "invalid_type", message: "a field name or null"))
                        }
                        continue
                    }
                    let custom = field.hasPrefix("cf.") && definitions.contains { "cf.\($0.key)" == field }
                    guard allowed.contains(field) || custom else {
                        validation.add(
                            FieldIssue(
                                field: "mapping.\(column)", code: "invalid_value",
                                message: "one of \(allowed.sorted().joined(separator: ", ")) or cf.<custom field key>"))
                        continue
                    }
                    mapping[column] = field
                }
                let targets = Array(mapping.values)
                if Set(targets).count != targets.count {
                    validation.add(
                        FieldIssue(field: "mapping", code: "invalid_value", message: "each field from one column"))
                }
                item.mapping = mapping
            } else {
                validation.add(
                    FieldIssue(field: "mapping", code: "invalid_type", message: "an object of column: field"))
            }
        }
        if item.mapping.isEmpty {
            validation.add(
                FieldIssue(field: "mapping", code: "required", message: "map at least one column to a field"))
        }
        switch fields["dry_run"] {
        case nil: item.dryRun = false
        case .bool(let flag)?: item.dryRun = flag
        default: validation.add(FieldIssue(field: "dry_run", code: "invalid_type", message: "true or false"))
        }
        switch fields["on_duplicate"] {
        case nil: item.onDuplicate = .skip
        case .string(let text)? where CRMImport.OnDuplicate(rawValue: text) != nil:
            item.onDuplicate = CRMImport.OnDuplicate(rawValue: text)!
        default: validation.add(FieldIssue(field: "on_duplicate", code: "invalid_value", message: "skip or update"))
        }
        try validation.check()
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let id = try Self.id(context)
        guard
            let item = try await services.database.read(
                tenant: tenant, { tx in try await ImportStore().find(id, in: tx) })
        else { throw DomainError.notFound(entity: "import") }
        return try JSONResponse.make(item)
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        var after: (Int64, UUID)?
        if let position = try request.cursorPosition() {
            guard let parsed = ActivityStore.Query.position(position) else {
                throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
            }
            after = parsed
        }
        let start = after
        let items = try await services.database.read(tenant: tenant) { tx in
            try await ImportStore().list(limit: limit + 1, after: start, in: tx)
        }
        return try JSONResponse.make(
            Page(overfetched: items, limit: limit) {
                "\($0.createdAt.epochMilliseconds)|\($0.id.rawValue.lowercasedString)"
            })
    }

    func errors(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let id = try Self.id(context)
        let limit = try request.pageLimit()
        var after: (Int, String)?
        if let position = try request.cursorPosition() {
            let parts = position.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let row = Int(parts[0]) else {
                throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
            }
            after = (row, String(parts[1]))
        }
        let start = after
        let errors = try await services.database.read(tenant: tenant) { tx -> [ImportStore.RowError]? in
            guard try await ImportStore().find(id, in: tx) != nil else { return nil }
            return try await ImportStore().errors(of: id, after: start, limit: limit + 1, in: tx)
        }
        guard let errors else { throw DomainError.notFound(entity: "import") }
        return try JSONResponse.make(Page(overfetched: errors, limit: limit) { "\($0.row)|\($0.field)" })
    }

    static func id(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: "import")
        }
        return id
    }
}
