import Foundation
import Kernel

/// A call, meeting, email, note or task about one or more records (its targets: leads, contacts, companies,
/// deals). It shows on each target's timeline. A task has a due date and is done or open; any activity may carry a
/// reminder, which a job mails to its owner when due. `@[Name](user:<id>)` in the body mentions a user, who is
/// mailed once per activity.
package struct Activity: Sendable, Equatable, Encodable {
    package enum Kind: String, Sendable, CaseIterable, Codable {
        case call, meeting, email, note, task
    }

    /// A record an activity is about.
    package struct Target: Sendable, Hashable, Codable, Comparable {
        package let type: CustomField.Entity
        package let id: UUID

        package init(type: CustomField.Entity, id: UUID) {
            self.type = type
            self.id = id
        }

        package static func < (left: Target, right: Target) -> Bool {
            (left.type.rawValue, left.id.uuidString) < (right.type.rawValue, right.id.uuidString)
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(id.lowercasedString, forKey: .id)
        }
    }

    package let id: ID<Activity>
    package var kind: Kind
    package var subject: String?
    package var body: String?
    /// When it happened, or starts (a meeting); a task's is when it was set.
    package var occurredAt: Date
    package var dueAt: Date?
    package var remindAt: Date?
    /// When the reminder was sent; cleared when `remindAt` changes.
    package var remindedAt: Date?
    /// When a task was done.
    package var completedAt: Date?
    package var durationMinutes: Int?
    package var ownerID: String?
    package let createdBy: String
    /// The users mentioned in the body, each once, in order.
    package var mentions: [String]
    package var targets: [Target]
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    /// At most this many targets and mentions.
    package static let maxTargets = 20
    package static let maxMentions = 20

    enum CodingKeys: String, CodingKey {
        case id, type, subject, body, done, mentions, targets, version
        case occurredAt = "occurred_at"
        case dueAt = "due_at"
        case remindAt = "remind_at"
        case remindedAt = "reminded_at"
        case completedAt = "completed_at"
        case durationMinutes = "duration_minutes"
        case ownerID = "owner_id"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .type)
        try container.encode(subject, forKey: .subject)
        try container.encode(body, forKey: .body)
        try container.encode(RFC3339.string(from: occurredAt), forKey: .occurredAt)
        try container.encode(dueAt.map(RFC3339.string(from:)), forKey: .dueAt)
        try container.encode(remindAt.map(RFC3339.string(from:)), forKey: .remindAt)
        try container.encode(remindedAt.map(RFC3339.string(from:)), forKey: .remindedAt)
        try container.encode(completedAt != nil, forKey: .done)
        try container.encode(completedAt.map(RFC3339.string(from:)), forKey: .completedAt)
        try container.encode(durationMinutes, forKey: .durationMinutes)
        try container.encode(ownerID, forKey: .ownerID)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(mentions, forKey: .mentions)
        try container.encode(targets, forKey: .targets)
        try container.encode(version, forKey: .version)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }

    /// The editable fields as JSON, for audit changes and `crm.activity.updated` events.
    package var fields: [String: JSONValue] {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func time(_ value: Date?) -> JSONValue { value.map { .string(RFC3339.string(from: $0)) } ?? .null }
        return [
            "type": .string(kind.rawValue), "subject": text(subject), "body": text(body),
            "occurred_at": time(occurredAt), "due_at": time(dueAt), "remind_at": time(remindAt),
            "done": .bool(completedAt != nil), "duration_minutes": durationMinutes.map { .integer(Int64($0)) } ?? .null,
            "owner_id": text(ownerID),
            "targets": .array(
                targets.map { .object(["type": .string($0.type.rawValue), "id": .string($0.id.lowercasedString)]) }),
        ]
    }

    /// Who a reminder goes to: the owner, else the author.
    package var remindee: String { ownerID ?? createdBy }

    /// The user ids mentioned in `text` as `@[Name](user:<uuid>)` (the name without `]`), lower-case, each once,
    /// in order.
    package static func mentions(in text: String) -> [String] {
        var found: [String] = []
        for mention in scan(text) where !found.contains(mention.user) { found.append(mention.user) }
        return found
    }

    /// `text` with each mention `@[Name](user:<id>)` written as `@Name`, for mail.
    package static func plain(_ text: String) -> String {
        var result = ""
        var position = text.startIndex
        for mention in scan(text) {
            result += text[position..<mention.range.lowerBound] + "@" + mention.name
            position = mention.range.upperBound
        }
        return result + text[position...]
    }

    /// The mentions in `text`: where each is, its name and its user id.
    private static func scan(_ text: String) -> [(range: Range<String.Index>, name: Substring, user: String)] {
        var mentions: [(range: Range<String.Index>, name: Substring, user: String)] = []
        var rest = text[...]
        while let open = rest.range(of: "@[") {
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstIndex(of: "]") else { break }
            let name = afterOpen[..<close]
            let tail = afterOpen[close...]
            let prefix = "](user:"
            if tail.hasPrefix(prefix) {
                let idStart = tail.index(tail.startIndex, offsetBy: prefix.count)
                let candidate = tail[idStart...].prefix(36)
                if candidate.count == 36, tail[candidate.endIndex...].first == ")",
                    let id = UUID(uuidString: String(candidate)), !name.isEmpty, !name.contains("[")
                {
                    let end = tail.index(after: candidate.endIndex)
                    mentions.append((open.lowerBound..<end, name, id.lowercasedString))
                    rest = text[end...]
                    continue
                }
            }
            rest = afterOpen
        }
        return mentions
    }

    /// A one-line title for mail: the subject, else the body's start, mentions as `@Name`.
    package var title: String {
        let text = subject ?? String(Self.plain(body ?? "").prefix(80))
        return text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
    }
}
