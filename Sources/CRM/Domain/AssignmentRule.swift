import Foundation
import Kernel

/// Who a new lead goes to. Rules are tried in order; the first active one whose conditions all hold assigns the
/// lead: to its one user, or round-robin among its users (a team). A rule without conditions takes every lead.
/// Rules apply to leads created without an `owner_id` (API, website form, import).
package struct AssignmentRule: Sendable, Equatable, Encodable {
    package enum Method: String, Sendable, Codable, CaseIterable {
        case user
        case roundRobin = "round_robin"
    }

    package let id: ID<AssignmentRule>
    package var name: String
    package var position: Int
    package var active: Bool
    /// Field → value, all of which must hold: `source`, `company`, `job_title`, `status`, `tag` (the lead has it),
    /// `phone_prefix` (`+49`), `email_domain`, or `cf.<key>` (a custom field's value, as text). Compared ignoring case.
    package var conditions: [String: String]
    package var method: Method
    package var users: [String]
    /// The index of the next user of a round-robin.
    package var nextIndex: Int
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    package static let maxRules = 50
    package static let maxUsers = 50
    package static let conditionFields: Set<String> = [
        "source", "company", "job_title", "status", "tag", "phone_prefix", "email_domain",
    ]

    enum CodingKeys: String, CodingKey {
        case id, name, position, active, conditions, method, users, version
        case nextIndex = "next_index"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(position, forKey: .position)
        try container.encode(active, forKey: .active)
        try container.encode(conditions, forKey: .conditions)
        try container.encode(method, forKey: .method)
        try container.encode(users, forKey: .users)
        try container.encode(nextIndex, forKey: .nextIndex)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }

    package var fields: [String: JSONValue] {
        [
            "name": .string(name), "position": .integer(Int64(position)), "active": .bool(active),
            "conditions": .object(conditions.mapValues(JSONValue.string)), "method": .string(method.rawValue),
            "users": .array(users.map(JSONValue.string)),
        ]
    }

    /// Whether every condition holds for `lead`.
    package func matches(_ lead: Lead) -> Bool {
        conditions.allSatisfy { field, expected in
            let wanted = expected.lowercased()
            switch field {
            case "source": return lead.source.lowercased() == wanted
            case "company": return lead.company?.lowercased() == wanted
            case "job_title": return lead.jobTitle?.lowercased() == wanted
            case "status": return lead.status.rawValue == wanted
            case "tag": return lead.tags.contains(wanted)
            case "phone_prefix": return lead.phone?.hasPrefix(expected) ?? false
            case "email_domain": return lead.email.map { $0.lowercased().hasSuffix("@" + wanted) } ?? false
            default:
                guard field.hasPrefix("cf."), let value = lead.customFields[String(field.dropFirst(3))] else {
                    return false
                }
                switch value {
                case .string(let text): return text.lowercased() == wanted
                case .integer(let number): return String(number) == wanted
                case .number(let number): return String(number) == wanted
                case .bool(let flag): return String(flag) == wanted
                default: return false
                }
            }
        }
    }

    /// The rule that assigns `lead`: the first active one with users whose conditions all hold (rules come in
    /// their order), or nil.
    static func first(of rules: [AssignmentRule], for lead: Lead) -> AssignmentRule? {
        rules.first { $0.active && !$0.users.isEmpty && $0.matches(lead) }
    }

    /// The owner this rule gives: its user, or for a round robin the user whose `turn` it is.
    func owner(turn: Int) -> String {
        switch method {
        case .user: users[0]
        case .roundRobin: users[turn % users.count]
        }
    }
}
