import Foundation
import Kernel

/// A sale in progress: a value in a pipeline's stage, closed as won or lost.
package struct Deal: Sendable, Equatable, JSONObject {
    package enum Status: String, Sendable, Codable, CaseIterable {
        case open, won, lost
    }

    /// One move between stages.
    package struct StageChange: Sendable, Equatable, Encodable {
        package let fromStageID: ID<Pipeline.Stage>?
        package let toStageID: ID<Pipeline.Stage>
        package let movedAt: Date
        package let movedBy: String?

        enum CodingKeys: String, CodingKey {
            case fromStageID = "from_stage_id"
            case toStageID = "to_stage_id"
            case movedAt = "moved_at"
            case movedBy = "moved_by"
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(fromStageID, forKey: .fromStageID)
            try container.encode(toStageID, forKey: .toStageID)
            try container.encode(RFC3339.string(from: movedAt), forKey: .movedAt)
            try container.encode(movedBy, forKey: .movedBy)
        }
    }

    package let id: ID<Deal>
    package var name: String
    package var pipelineID: ID<Pipeline>
    package var stageID: ID<Pipeline.Stage>
    package var status: Status
    package var value: Money
    /// 0 to 100; the stage's probability unless set on the deal.
    package var probability: Int
    /// `YYYY-MM-DD`.
    package var expectedClose: String?
    package var ownerID: String?
    package var companyID: ID<Company>?
    package var contactIDs: [ID<Contact>]
    /// The lead it was converted from.
    package var leadID: ID<Lead>?
    /// Why it was won or lost.
    package var closeReason: String?
    package var closedAt: Date?
    package var tags: [String]
    package var customFields: [String: JSONValue]
    package var notes: String?
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date
    /// When it entered its current stage (stage velocity).
    package var stageEnteredAt: Date


    package func writeFields(to fields: inout some JSONFields) throws {
        try fields.field("close_reason", closeReason)
        try fields.field("closed_at", date: closedAt)
        try fields.field("company_id", companyID)
        try fields.field("contact_ids", contactIDs.map(\.description))
        try fields.field("created_at", date: createdAt)
        try fields.field("custom_fields", customFields)
        try fields.field("expected_close", expectedClose)
        try fields.field("id", id)
        try fields.field("lead_id", leadID)
        try fields.field("name", name)
        try fields.field("notes", notes)
        try fields.field("owner_id", ownerID)
        try fields.field("pipeline_id", pipelineID)
        try fields.field("probability", probability)
        try fields.field("stage_entered_at", date: stageEnteredAt)
        try fields.field("stage_id", stageID)
        try fields.field("status", status.rawValue)
        try fields.field("tags", tags)
        try fields.field("updated_at", date: updatedAt)
        try fields.field("value", object: value)
        try fields.field("version", version)
    }

    /// The editable fields as JSON, for audit changes and `crm.deal.updated` events.
    package var fields: [String: JSONValue] {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return [
            "name": .string(name), "pipeline_id": .string(pipelineID.description),
            "stage_id": .string(stageID.description), "status": .string(status.rawValue),
            "value": ["amount_minor": .integer(value.amountMinor), "currency": .string(value.currency.code)],
            "probability": .integer(Int64(probability)), "expected_close": text(expectedClose),
            "owner_id": text(ownerID), "company_id": text(companyID?.description),
            "contact_ids": .array(contactIDs.map { .string($0.description) }), "lead_id": text(leadID?.description),
            "close_reason": text(closeReason), "tags": .array(tags.map(JSONValue.string)),
            "custom_fields": .object(customFields), "notes": text(notes),
        ]
    }
}
