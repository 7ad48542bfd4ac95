import Foundation
import Kernel

/// One fact for the audit log: who did what to which record, from where, with what outcome, and for changes the
/// fields' values before and after. Any module records these through `AuditTrail` inside its own transaction.
package struct AuditEntry: Sendable, Equatable {
    /// Who acted: a user, an API key, the system (jobs, CLI) or an anonymous caller (failed sign-in).
    package struct Actor: Sendable, Equatable, Codable {
        package var kind: String
        package var id: String?
        /// A readable name for listings (the email of a user); informational only.
        package var name: String?

        package init(kind: String, id: String?, name: String? = nil) {
            self.kind = kind
            self.id = id
            self.name = name
        }

        package static let system = Actor(kind: "system", id: nil)
        package static let anonymous = Actor(kind: "anonymous", id: nil)
    }

    /// A field's value before and after a change (`nil` = absent).
    package struct Change: Sendable, Equatable, Codable {
        package var before: JSONValue?
        package var after: JSONValue?

        package init(before: JSONValue?, after: JSONValue?) {
            self.before = before
            self.after = after
        }
    }

    package enum Outcome: String, Sendable, Codable {
        case success
        case failure
    }

    package var action: String
    package var actor: Actor
    package var outcome: Outcome
    package var targetType: String?
    package var targetID: String?
    package var ip: String?
    package var requestID: String?
    package var changes: [String: Change]
    package var details: [String: JSONValue]

    package init(
        action: String, actor: Actor, outcome: Outcome = .success, targetType: String? = nil,
        targetID: String? = nil, ip: String? = nil, requestID: String? = nil, changes: [String: Change] = [:],
        details: [String: JSONValue] = [:]
    ) {
        self.action = action
        self.actor = actor
        self.outcome = outcome
        self.targetType = targetType
        self.targetID = targetID
        self.ip = ip
        self.requestID = requestID
        self.changes = changes
        self.details = details
    }

    /// The changed fields between two snapshots (only those that differ).
    package static func changes(before: [String: JSONValue], after: [String: JSONValue]) -> [String: Change] {
        var result: [String: Change] = [:]
        for key in Set(before.keys).union(after.keys) where before[key] != after[key] {
            result[key] = Change(before: before[key], after: after[key])
        }
        return result
    }
}

/// A stored audit record as the query API returns it.
package struct AuditRecord: Sendable, Equatable, Encodable {
    package let sequence: Int64
    package let id: String
    package let occurredAt: Date
    package let entry: AuditEntry
    package let hash: String

    enum CodingKeys: String, CodingKey {
        case sequence, id, action, actor, outcome, ip, changes, details, hash
        case occurredAt = "occurred_at"
        case targetType = "target_type"
        case targetID = "target_id"
        case requestID = "request_id"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(id, forKey: .id)
        try container.encode(RFC3339.string(from: occurredAt), forKey: .occurredAt)
        try container.encode(entry.action, forKey: .action)
        try container.encode(entry.actor, forKey: .actor)
        try container.encode(entry.outcome, forKey: .outcome)
        try container.encode(entry.targetType, forKey: .targetType)
        try container.encode(entry.targetID, forKey: .targetID)
        try container.encode(entry.ip, forKey: .ip)
        try container.encode(entry.requestID, forKey: .requestID)
        try container.encode(entry.changes, forKey: .changes)
        try container.encode(entry.details, forKey: .details)
        try container.encode(hash, forKey: .hash)
    }
}
