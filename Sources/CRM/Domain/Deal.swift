import Foundation
import Kernel

/// A sale in progress: a value in a pipeline's stage, closed as won or lost.
package struct Deal: Sendable, Equatable, Encodable {
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

    enum CodingKeys: String, CodingKey {
        case id, name, status, value, probability, notes, version, tags
        case customFields = "custom_fields"
        case pipelineID = "pipeline_id"
        case stageID = "stage_id"
        case expectedClose = "expected_close"
        case ownerID = "owner_id"
        case companyID = "company_id"
        case contactIDs = "contact_ids"
        case leadID = "lead_id"
        case closeReason = "close_reason"
        case closedAt = "closed_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case stageEnteredAt = "stage_entered_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(pipelineID, forKey: .pipelineID)
        try container.encode(stageID, forKey: .stageID)
        try container.encode(status, forKey: .status)
        try container.encode(value, forKey: .value)
        try container.encode(probability, forKey: .probability)
        try container.encode(expectedClose, forKey: .expectedClose)
        try container.encode(ownerID, forKey: .ownerID)
        try container.encode(companyID, forKey: .companyID)
        try container.encode(contactIDs, forKey: .contactIDs)
        try container.encode(leadID, forKey: .leadID)
        try container.encode(closeReason, forKey: .closeReason)
        try container.encode(closedAt.map { RFC3339.string(from: $0) }, forKey: .closedAt)
        try container.encode(tags, forKey: .tags)
        try container.encode(customFields, forKey: .customFields)
        try container.encode(notes, forKey: .notes)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
        try container.encode(RFC3339.string(from: stageEnteredAt), forKey: .stageEnteredAt)
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
