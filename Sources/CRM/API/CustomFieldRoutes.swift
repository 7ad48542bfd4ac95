import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/custom-fields`: the tenant's typed fields on leads, contacts, companies and deals (at most 20 per kind
/// of record). Reading needs `crm.leads:read`, changing them `crm.admin:manage`.
struct CustomFieldRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/custom-fields"

    struct CreateBody: JSONRequestBody {
        let entity: String
        let key: String
        let label: String
        let type: String
        let options: [String]?
        static let fieldNames: Set<String> = ["entity", "key", "label", "type", "options"]
    }

    struct UpdateBody: JSONRequestBody {
        let label: String?
        let options: [String]?
        static let fieldNames: Set<String> = ["label", "options"]
    }

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { request, context in try await list(request, context) }
        routes.post(RouterPath(Self.path)) { request, context in try await create(request, context) }
        routes.get("\(Self.path)/{id}") { _, context in try await get(context) }
        routes.patch("\(Self.path)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(Self.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
    }

    static func checkOptions(_ options: [String]?, kind: CustomField.Kind, into validation: inout Validation)
        -> [String]
    {
        let cleaned = (options ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        if kind == .select {
            if cleaned.isEmpty || cleaned.count > 50 || Set(cleaned).count != cleaned.count
                || cleaned.contains(where: { $0.isEmpty || $0.count > 100 })
            {
                validation.add(
                    FieldIssue(
                        field: "options", code: "invalid_value",
                        message: "1 to 50 different choices of 1 to 100 characters"))
            }
        } else if !cleaned.isEmpty {
            validation.add(
                FieldIssue(field: "options", code: "invalid_value", message: "only select fields have options"))
        }
        return cleaned
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let body = try await JSONBody.decode(CreateBody.self, from: request, context: context)
        var validation = Validation()
        let entity = CustomField.Entity(rawValue: body.entity)
        if entity == nil {
            validation.add(
                FieldIssue(field: "entity", code: "invalid_value", message: "lead, contact, company or deal"))
        }
        let kind = CustomField.Kind(rawValue: body.type)
        if kind == nil {
            validation.add(
                FieldIssue(field: "type", code: "invalid_value", message: "text, number, date, select or boolean"))
        }
        if !CustomField.isValidKey(body.key) {
            validation.add(
                FieldIssue(
                    field: "key", code: "invalid_format",
                    message: "1 to 40 of a-z, 0-9 and _, starting with a letter"))
        }
        let label = Check.text(body.label, field: "label", max: 100, into: &validation)
        let options = Self.checkOptions(body.options, kind: kind ?? .text, into: &validation)
        try validation.check()
        guard let entity, let kind else { return Response(status: .internalServerError) }
        let now = services.clock.now().storedPrecision
        let field = CustomField(
            id: .generate(), entity: entity, key: body.key, label: label, kind: kind, options: options, createdAt: now)
        try await services.database.audited(
            "crm.custom_field.created", target: "custom_field", id: { _ in field.id.description },
            details: { _ in ["entity": .string(entity.rawValue), "key": .string(field.key)] }, at: now,
            request: request, context: context
        ) { tx in
            try await tx.lockTenant("custom_fields")
            let existing = try await CustomFieldStore().list(entity: entity, in: tx)
            if existing.contains(where: { $0.key == field.key }) {
                throw DomainError.conflict("a \(entity.rawValue) custom field with the key \(field.key) exists")
            }
            if existing.count >= CustomField.maximum {
                throw DomainError.conflict(
                    "a tenant has at most \(CustomField.maximum) custom fields per kind of record")
            }
            try await CustomFieldStore().insert(field, in: tx)
        }
        return try JSONResponse.created(field, location: "\(Self.path)/\(field.id)")
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        var entity: CustomField.Entity?
        if let text = request.query("entity") {
            guard let parsed = CustomField.Entity(rawValue: text) else {
                throw Problem(
                    status: .badRequest, detail: "entity is lead, contact, company or deal",
                    errors: [
                        FieldIssue(field: "entity", code: "invalid_value", message: "lead, contact, company or deal")
                    ])
            }
            entity = parsed
        }
        let only = entity
        let fields = try await services.database.read(tenant: tenant) { tx in
            try await CustomFieldStore().list(entity: only, in: tx)
        }
        // At most 60 definitions: one page.
        return try JSONResponse.make(Page(data: fields, nextCursor: nil))
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let id = try ID<CustomField>.path(context, entity: "custom field")
        guard
            let field = try await services.database.read(
                tenant: tenant, { tx in try await CustomFieldStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "custom field") }
        return try JSONResponse.make(field)
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let id = try ID<CustomField>.path(context, entity: "custom field")
        let body = try await JSONBody.decode(UpdateBody.self, from: request, context: context)
        let now = services.clock.now()
        let field = try await services.database.audited(
            "crm.custom_field.updated", target: "custom_field", id: { $0.id.description }, at: now, request: request,
            context: context
        ) { tx -> CustomField in
            guard var field = try await CustomFieldStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "custom field")
            }
            var validation = Validation()
            if let label = body.label { field.label = Check.text(label, field: "label", max: 100, into: &validation) }
            if body.options != nil {
                field.options = Self.checkOptions(body.options, kind: field.kind, into: &validation)
            }
            try validation.check()
            try await CustomFieldStore().update(field, in: tx)
            return field
        }
        return try JSONResponse.make(field)
    }

    /// Removes the definition. Values already stored under its key stay on the records (a field made again with
    /// the same key finds them) but can no longer be filtered on or set.
    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let id = try ID<CustomField>.path(context, entity: "custom field")
        try await services.database.audited(
            "crm.custom_field.deleted", target: "custom_field", id: { _ in id.description }, at: services.clock.now(),
            request: request, context: context
        ) { tx in
            guard try await CustomFieldStore().delete(id: id, in: tx) != nil else {
                throw DomainError.notFound(entity: "custom field")
            }
        }
        return JSONResponse.noContent()
    }
}
