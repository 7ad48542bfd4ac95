import Foundation
import Kernel
import Platform

/// A lead's JSON body applied to a lead (see `RecordInput`). Creation applies the body to an empty lead.
enum LeadInput {
    static let fieldNames: Set<String> = [
        "first_name", "last_name", "email", "phone", "company", "job_title", "source", "status", "score", "owner_id",
        "tags", "custom_fields", "notes",
    ]

    /// Applies `fields` to `lead`; `definitions` are the tenant's lead custom fields. Status moves are checked
    /// against `LeadStatusMachine`; a new lead (`creating`) starts `new`.
    static func apply(
        _ fields: [String: JSONValue], to lead: inout Lead, definitions: [CustomField], creating: Bool
    ) throws {
        if !creating && lead.convertedAt != nil {
            throw DomainError.conflict(
                "a converted lead stays as it was converted; change its contact, company or deal")
        }
        var input = RecordInput(fields)
        if case .some(let value) = input.text("first_name", max: 100) { lead.firstName = value }
        if case .some(let value) = input.text("last_name", max: 100) { lead.lastName = value }
        if case .some(let value) = input.text("company", max: 200) { lead.company = value }
        if case .some(let value) = input.text("job_title", max: 100) { lead.jobTitle = value }
        if case .some(let value) = input.text("notes", max: 10_000) { lead.notes = value }
        if case .some(let value) = input.email() { lead.email = value }
        if case .some(let value) = input.phone() { lead.phone = value }
        if case .some(let value) = input.id("owner_id", message: "a user id") { lead.ownerID = value }
        if case .some(let value) = input.text("source", max: 64) {
            if let value {
                lead.source = Check.key(value.lowercased(), field: "source", into: &input.validation)
            } else {
                input.issue("source", "required", "a source such as website, referral or import")
            }
        }
        if let score = input.integer("score", in: 0...100) { lead.score = score ?? 0 }
        if let tags = input.tags() { lead.tags = tags }
        input.customFields(into: &lead.customFields, definitions: definitions)
        if let value = fields["status"] {
            if case .string(let raw) = value, let status = LeadStatus(rawValue: raw) {
                if creating && status != .new {
                    input.issue("status", "invalid_transition", "a new lead starts as new")
                } else if !LeadStatusMachine.canMove(from: lead.status, to: status) {
                    let allowed = LeadStatusMachine.allowed(from: lead.status).map(\.rawValue).sorted()
                    input.issue(
                        "status", "invalid_transition",
                        "a \(lead.status.rawValue) lead can become "
                            + (allowed.isEmpty ? "nothing else (convert it)" : allowed.joined(separator: " or ")))
                } else {
                    lead.status = status
                }
            } else {
                input.issue("status", "invalid_value", LeadStatus.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
        if lead.firstName == nil && lead.lastName == nil && lead.email == nil && input.validation.issues.isEmpty {
            input.issue("last_name", "required", "a lead needs a first or last name, or an email address")
        }
        try input.validation.check()
    }
}
