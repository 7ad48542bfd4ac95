import Foundation
import Kernel
import Platform

/// Applies the tenant's assignment rules to a new lead (the rules' choice is `AssignmentRule`'s, without I/O;
/// this reads them, takes a round robin's turn and tells the new owner).
enum LeadAssignment {
    /// Sets `lead`'s owner from the first matching active rule and returns that rule; `nil` (owner untouched)
    /// when none matches.
    static func assign(_ lead: inout Lead, in tx: Transaction) async throws -> AssignmentRule? {
        let rules = try await AssignmentRuleStore().all(in: tx)
        guard let rule = AssignmentRule.first(of: rules, for: lead) else { return nil }
        // A round robin's turn is taken in the database (two leads at once get two users).
        let turn = rule.method == .roundRobin ? try await AssignmentRuleStore().takeNext(of: rule.id, in: tx) : nil
        lead.ownerID = rule.owner(turn: turn ?? rule.nextIndex)
        return rule
    }

    /// Mails a lead's new owner (not when they created it themselves).
    static func notifyOwner(of lead: Lead, rule: AssignmentRule, actor: String?, trace: String?, in tx: Transaction)
        async throws
    {
        guard let owner = lead.ownerID, owner != actor else { return }
        let name = RecordTags.displayName(first: lead.firstName, last: lead.lastName)
        let notice = UserNotice(
            userID: owner, subject: "New lead for you: \(name.isEmpty ? (lead.email ?? "a lead") : name)",
            text: """
                The assignment rule "\(rule.name)" gave you a new lead:

                \(name)\(lead.email.map { " <\($0)>" } ?? "")\(lead.company.map { " of \($0)" } ?? "")
                Source: \(lead.source)
                \(lead.notes.map { "\n\($0)\n" } ?? "")
                The lead is \(lead.id) in the CRM.
                """)
        try await CRMEvents.append(UserNotice.eventType, notice, entity: "lead", id: lead.uuid, traceparent: trace, in: tx)
    }
}
