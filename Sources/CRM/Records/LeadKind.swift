import Foundation
import Kernel
import Platform

/// Leads: people or companies that may buy, assigned by the tenant's rules when created without an owner;
/// `crm.lead.qualified` when one is qualified (served at `/api/v1/crm/leads`).
enum LeadKind {
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
}
