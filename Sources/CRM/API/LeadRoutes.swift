import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/leads`: the record routes, with `POST ?on_duplicate=merge` adding a duplicate's details to the lead
/// that was there first, and `crm.lead.qualified` when a lead is qualified.
struct LeadRoutes: Sendable {
    let services: CRMServices

    static let kind = RecordKind<Lead>(
        name: "lead", plural: "leads", read: .crmLeadsRead, write: .crmLeadsWrite, fieldNames: LeadInput.fieldNames,
        blank: { owner, now in
            Lead(
                id: .generate(), firstName: nil, lastName: nil, email: nil, phone: nil, company: nil, jobTitle: nil,
                source: "manual", status: .new, score: 0, ownerID: owner, tags: [], customFields: [:], notes: nil,
                version: 1, createdAt: now, updatedAt: now)
        },
        apply: { fields, lead, definitions, creating in
            try LeadInput.apply(fields, to: &lead, definitions: definitions, creating: creating)
        },
        assign: { lead, actor, trace, tx in
            guard let rule = try await LeadAssignment.assign(&lead, in: tx) else { return }
            try await LeadAssignment.notifyOwner(of: lead, rule: rule, actor: actor, trace: trace, in: tx)
        },
        moreEvents: { before, after in
            guard let before, after.status == .qualified, before.status != .qualified else { return [] }
            return [(CRMEvents.leadQualified, after)]
        },
        beforeDelete: { lead, now, trace, tx in
            try await RecordLinks.clear("lead_id", of: .deal, pointingAt: lead.uuid, now: now, trace: trace, in: tx)
        })

    var records: RecordRoutes<Lead> { RecordRoutes(services: services, kind: Self.kind) }

    func register(on routes: RouteRegistrar) {
        let records = self.records
        RecordExport(services: services, kind: Self.kind).register(on: routes)
        routes.get(RouterPath(Self.kind.path)) { request, context in try await records.list(request, context) }
        routes.post(RouterPath(Self.kind.path)) { request, context in try await create(request, context) }
        routes.get("\(Self.kind.path)/{id}") { _, context in try await records.get(context) }
        routes.patch("\(Self.kind.path)/{id}") { request, context in try await records.update(request, context) }
        routes.delete("\(Self.kind.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await records.delete(request, context) }
        }
        routes.post("\(Self.kind.path)/bulk") { request, context in try await records.bulk(request, context) }
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
            var response = try JSONResponse.created(created, location: "\(Self.kind.path)/\(created.id)")
            response.headers[.eTag] = created.etag
            return response
        } catch let duplicate as RecordStore<Lead>.Duplicate {
            let merged = try await RecordRoutes<Lead>.conflictOnDuplicate {
                try await self.merge(fields, into: duplicate.existing.id.rawValue, request, context)
            }
            return try JSONResponse.make(
                merged, headers: [.eTag: merged.etag, .contentLocation: "\(Self.kind.path)/\(merged.id)"])
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
