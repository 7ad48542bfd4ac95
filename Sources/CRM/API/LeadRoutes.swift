import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/leads`: the record routes, with `POST ?on_duplicate=merge` adding a duplicate's details to the lead
/// that was there first, and `crm.lead.qualified` when a lead is qualified.
struct LeadRoutes: Sendable {
    let services: CRMServices

    var records: RecordRoutes<Lead> { RecordRoutes(services: services, kind: LeadKind.kind) }

    func register(on routes: RouteRegistrar) {
        let records = self.records
        RecordExport(services: services, kind: LeadKind.kind).register(on: routes)
        routes.get(RouterPath(LeadKind.kind.path)) { request, context in try await records.list(request, context) }
        routes.post(RouterPath(LeadKind.kind.path)) { request, context in try await create(request, context) }
        routes.get("\(LeadKind.kind.path)/{id}") { _, context in try await records.get(context) }
        routes.patch("\(LeadKind.kind.path)/{id}") { request, context in try await records.update(request, context) }
        routes.delete("\(LeadKind.kind.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await records.delete(request, context) }
        }
        routes.post("\(LeadKind.kind.path)/bulk") { request, context in try await records.bulk(request, context) }
        LeadConversion(services: services).register(on: routes)
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let merge: Bool
        switch request.query("on_duplicate") {
        case nil, "reject": merge = false
        case "merge": merge = true
        default:
            throw Problem(
                status: .badRequest, detail: "on_duplicate is reject (the default) or merge",
                errors: [FieldIssue(field: "on_duplicate", code: "invalid_value", message: "reject or merge")])
        }
        guard merge else { return try await records.createResponse(request, context) }
        let fields = try await records.body(request, context)
        do {
            let created = try await records.create(fields, request, context)
            var response = try JSONResponse.created(created, location: "\(LeadKind.kind.path)/\(created.id)")
            response.headers[.eTag] = created.etag
            return response
        } catch let duplicate as RecordStore<Lead>.Duplicate {
            let merged = try await RecordRoutes<Lead>.conflictOnDuplicate {
                try await self.merge(fields, into: duplicate.existing.id.rawValue, request, context)
            }
            return try JSONResponse.make(
                merged, headers: [.eTag: merged.etag, .contentLocation: "\(LeadKind.kind.path)/\(merged.id)"])
        }
    }

    /// Adds a duplicate's details to the lead that was there first: its values are replaced by those sent
    /// (its status and owner stay), tags are added to its own, custom fields merged.
    func merge(_ fields: [String: JSONValue], into id: UUID, _ request: Request, _ context: AppRequestContext)
        async throws -> Lead
    {
        var sent = fields
        sent["status"] = nil
        sent["owner_id"] = nil
        let base = sent
        return try await records.change(id, request, context, action: "crm.lead.merged", merged: true) {
            lead, definitions in
            var fields = base
            var input = RecordInput(base)
            if let added = input.tags() {
                try input.validation.check()
                fields["tags"] = .array((lead.tags + added.filter { !lead.tags.contains($0) }).map(JSONValue.string))
            }
            try LeadInput.apply(fields, to: &lead, definitions: definitions, creating: false)
        }
    }
}
