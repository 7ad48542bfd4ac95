import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit

/// Deals: sales in a pipeline's stages (served at `/api/v1/crm/deals`). A stage move (`PATCH {"stage_id"}`) is recorded in the
/// deal's stage history and commits `crm.deal.stage_changed`; entering the won or lost stage closes the deal
/// (`crm.deal.won`, `crm.deal.lost`, the latter needing a `close_reason`), and leaving it opens it again.
enum DealKind {
    /// Stands for "not given" in a new deal until `prepare` picks the default pipeline and its first stage.
    static let unset = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    static let fieldNames: Set<String> = [
        "name", "value", "pipeline_id", "stage_id", "probability", "expected_close", "owner_id", "company_id",
        "contact_ids", "close_reason", "tags", "custom_fields", "notes",
    ]

    static let kind = RecordKind<Deal>(
        name: "deal", plural: "deals", read: .crmDealsRead, write: .crmDealsWrite, fieldNames: fieldNames,
        blank: { owner, now in
            Deal(
                id: .generate(), name: "", pipelineID: ID(unset), stageID: ID(unset), status: .open,
                value: Money(amountMinor: -1, currency: CurrencyCode("EUR")!), probability: -1, expectedClose: nil,
                ownerID: owner, companyID: nil, contactIDs: [], leadID: nil, closeReason: nil, closedAt: nil, tags: [],
                customFields: [:], notes: nil, version: 1, createdAt: now, updatedAt: now, stageEnteredAt: now)
        },
        apply: { fields, deal, definitions, creating in
            try apply(fields, to: &deal, definitions: definitions, creating: creating)
        },
        prepare: { deal, before, tx in try await prepare(&deal, before: before, in: tx) },
        moreEvents: { before, after in events(before: before, after: after) },
        afterWrite: { before, after, actor, tx in
            guard before?.stageID != after.stageID else { return }
            try await DealHistoryStore().record(
                deal: after.id, from: before?.stageID, to: after.stageID, at: after.updatedAt, by: actor, in: tx)
        },
        beforeDelete: { deal, now, trace, tx in
            try await DealHistoryStore().delete(deal: deal.id, in: tx)
            try await RecordLinks.clear("deal_id", of: .lead, pointingAt: deal.uuid, now: now, trace: trace, in: tx)
        })

    static func apply(_ fields: [String: JSONValue], to deal: inout Deal, definitions: [CustomField], creating: Bool)
        throws
    {
        var input = RecordInput(fields)
        if case .some(let name) = input.text("name", max: 200) {
            if let name { deal.name = name } else { input.issue("name", "required", "a deal needs a name") }
        }
        if let value = fields["value"] {
            if let money = money(value) {
                deal.value = money
            } else {
                input.issue(
                    "value", "invalid_value",
                    "{\"amount_minor\": a whole number from 0 to \(maxAmount), \"currency\": \"EUR\"}")
            }
        }
        if case .some(let id) = input.id("pipeline_id", message: "a pipeline id") {
            if let id, let uuid = UUID(uuidString: id) {
                deal.pipelineID = ID(uuid)
            } else {
                input.issue("pipeline_id", "required", "a pipeline id")
            }
        }
        if case .some(let id) = input.id("stage_id", message: "a stage id") {
            if let id, let uuid = UUID(uuidString: id) {
                deal.stageID = ID(uuid)
            } else {
                input.issue("stage_id", "required", "a stage id")
            }
        }
        if let probability = input.integer("probability", in: 0...100), let probability {
            deal.probability = probability
        } else if fields["stage_id"] != nil || fields["pipeline_id"] != nil {
            // Not given with a move: the stage's, once `prepare` knows the stage (see there).
            deal.probability = -1
        }
        if case .some(let value) = input.text("expected_close", max: 10) {
            if let value, !CustomField.isDate(value) {
                input.issue("expected_close", "invalid_format", "a date as YYYY-MM-DD")
            } else {
                deal.expectedClose = value
            }
        }
        if case .some(let value) = input.id("owner_id", message: "a user id") { deal.ownerID = value }
        if case .some(let value) = input.id("company_id", message: "a company id") {
            deal.companyID = value.flatMap { ID($0) }
        }
        if let value = fields["contact_ids"] {
            if case .array(let items) = value, items.count <= 50,
                case let ids = items.compactMap({ item -> ID<Contact>? in
                    if case .string(let text) = item { return ID(text) }
                    return nil
                }), ids.count == items.count
            {
                deal.contactIDs = ids.reduce(into: []) { kept, id in if !kept.contains(id) { kept.append(id) } }
            } else {
                input.issue("contact_ids", "invalid_value", "at most 50 contact ids")
            }
        }
        if case .some(let value) = input.text("close_reason", max: 500) { deal.closeReason = value }
        if case .some(let value) = input.text("notes", max: 10_000) { deal.notes = value }
        if let tags = input.tags() { deal.tags = tags }
        input.customFields(into: &deal.customFields, definitions: definitions)
        if creating && input.validation.issues.isEmpty {
            if deal.name.isEmpty { input.issue("name", "required", "a deal needs a name") }
            if deal.value.amountMinor < 0 { input.issue("value", "required", "a deal needs a value") }
        }
        try input.validation.check()
    }

    /// The largest amount a deal may have, in minor units (10^15: sums over many deals stay far from overflowing).
    static let maxAmount: Int64 = 1_000_000_000_000_000

    /// `{"amount_minor": 12345, "currency": "EUR"}` with an amount from 0 to `maxAmount`.
    static func money(_ value: JSONValue) -> Money? {
        guard case .object(let fields) = value, fields.count == 2, case .integer(let amount)? = fields["amount_minor"],
            (0...maxAmount).contains(amount), case .string(let code)? = fields["currency"],
            let currency = CurrencyCode(code)
        else { return nil }
        return Money(amountMinor: amount, currency: currency)
    }

    /// Resolves the pipeline and stage (the default pipeline and its first open stage when not given; the stage's
    /// own pipeline when only a stage is given; a stage left behind by a pipeline change becomes the new pipeline's
    /// first open stage), follows the stage's status and probability, and checks the company and contacts that
    /// changed (those already on the deal may have been deleted since, which leaves the deal editable).
    static func prepare(_ deal: inout Deal, before: Deal?, in tx: Transaction) async throws {
        var issues: [FieldIssue] = []
        let pipelines = PipelineStore()
        let pipelineGiven = before.map { deal.pipelineID != $0.pipelineID } ?? (deal.pipelineID.rawValue != unset)
        let stageGiven = deal.stageID.rawValue != unset && deal.stageID != before?.stageID
        if deal.pipelineID.rawValue == unset {
            // Made (under the exclusive lock) before the shared lock below is taken, never after it.
            deal.pipelineID = try await pipelines.ensureDefault(now: deal.updatedAt, in: tx).id
        }
        // A pipeline losing a stage waits for this transaction, and this one for it.
        try await tx.lockTenant("pipelines", shared: true)
        if stageGiven && !pipelineGiven, let owner = try await pipelines.pipeline(of: deal.stageID, in: tx) {
            deal.pipelineID = owner
        }
        guard let pipeline = try await pipelines.find(deal.pipelineID, in: tx) else {
            throw DomainError.validation([
                FieldIssue(field: "pipeline_id", code: "not_found", message: "no such pipeline")
            ])
        }
        if pipeline.stage(deal.stageID) == nil {
            if stageGiven {
                issues.append(
                    FieldIssue(field: "stage_id", code: "not_found", message: "no such stage in the deal's pipeline"))
            } else if let first = pipeline.firstOpenStage {
                deal.stageID = first.id
            }
        }
        if let stage = pipeline.stage(deal.stageID) {
            let moved = deal.stageID != before?.stageID
            if moved { deal.stageEnteredAt = deal.updatedAt }
            if deal.probability < 0 {
                deal.probability = moved ? stage.probability : (before?.probability ?? stage.probability)
            }
            switch stage.kind {
            case .open:
                // Reopened: the reason it was closed no longer holds (unless one is given with the move).
                if before?.status != .open && deal.closeReason == before?.closeReason { deal.closeReason = nil }
                deal.status = .open
                deal.closedAt = nil
            case .won, .lost:
                if moved || deal.status.rawValue != stage.kind.rawValue { deal.closedAt = deal.updatedAt }
                deal.status = stage.kind == .won ? .won : .lost
                if stage.kind == .lost && deal.closeReason == nil {
                    issues.append(
                        FieldIssue(field: "close_reason", code: "required", message: "a lost deal needs a reason"))
                }
            }
        }
        if deal.probability < 0 { deal.probability = 0 }
        if let company = deal.companyID, company != before?.companyID,
            try await RecordStore<Company>().find(company.rawValue, in: tx) == nil
        {
            issues.append(FieldIssue(field: "company_id", code: "not_found", message: "no such company"))
        }
        for (index, contact) in deal.contactIDs.enumerated() where !(before?.contactIDs.contains(contact) ?? false) {
            if try await RecordStore<Contact>().find(contact.rawValue, in: tx) == nil {
                issues.append(FieldIssue(field: "contact_ids[\(index)]", code: "not_found", message: "no such contact"))
            }
        }
        if !issues.isEmpty { throw DomainError.validation(issues) }
    }

    /// `crm.deal.stage_changed` on a move, `crm.deal.won` or `crm.deal.lost` when it closes.
    static func events(before: Deal?, after: Deal) -> [(type: String, data: any Encodable & Sendable)] {
        var events: [(type: String, data: any Encodable & Sendable)] = []
        if let before, before.stageID != after.stageID {
            events.append(
                (
                    "crm.deal.stage_changed",
                    StageChanged(
                        id: after.id.description, pipelineID: after.pipelineID.description,
                        fromStageID: before.stageID.description, toStageID: after.stageID.description)
                ))
        }
        if after.status != before?.status {
            if after.status == .won { events.append(("crm.deal.won", after)) }
            if after.status == .lost { events.append(("crm.deal.lost", after)) }
        }
        return events
    }

    struct StageChanged: Encodable, Sendable {
        let id: String
        let pipelineID: String
        let fromStageID: String
        let toStageID: String

        enum CodingKeys: String, CodingKey {
            case id
            case pipelineID = "pipeline_id"
            case fromStageID = "from_stage_id"
            case toStageID = "to_stage_id"
        }
    }
}
