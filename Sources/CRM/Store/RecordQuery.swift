import Foundation
import Kernel
import Platform
import SQLKit

/// What a list of leads, contacts or companies asks for: filters (all must hold), one sort order and the keyset
/// position to continue after. Filters a kind of record does not have are never set for it (see
/// `RecordListParameters`).
struct RecordQuery: Sendable {
    /// The kind of record listed; its table is aliased `l` in the statements.
    let entity: CustomField.Entity
    enum SortField: String, Sendable, CaseIterable {
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case name
        case score

        var column: String {
            switch self {
            case .createdAt: "created_at"
            case .updatedAt: "updated_at"
            case .name: "name_key"
            case .score: "score"
            }
        }
    }

    /// Where the previous page ended: its last lead's sort value and id.
    struct Position: Sendable, Equatable {
        let value: String
        let id: UUID

        /// `value|id` (the value may itself hold `|`: the id is after the last one).
        init?(_ text: String) {
            guard let bar = text.lastIndex(of: "|"), let id = UUID(uuidString: String(text[text.index(after: bar)...]))
            else { return nil }
            self.value = String(text[..<bar])
            self.id = id
        }

        init(value: String, id: UUID) {
            self.value = value
            self.id = id
        }

        var text: String { "\(value)|\(id.lowercasedString)" }
    }

    init(_ entity: CustomField.Entity) {
        self.entity = entity
    }

    var table: String {
        switch entity {
        case .lead: "crm_leads"
        case .contact: "crm_contacts"
        case .company: "crm_companies"
        case .deal: "crm_deals"
        }
    }

    var statuses: [LeadStatus] = []
    /// Leads only: converted ones (`true`) or the others (`false`).
    var converted: Bool?
    var companyID: UUID?
    var pipelineID: UUID?
    var stageID: UUID?
    var dealStatuses: [Deal.Status] = []
    var ownerID: String?
    var source: String?
    var tag: String?
    var email: String?
    var createdAfter: Date?
    var createdBefore: Date?
    var updatedAfter: Date?
    var scoreMin: Int?
    var scoreMax: Int?
    /// Text searched for in names, email and company (case-insensitive, anywhere in the value).
    var text: String?
    /// `custom_fields.<key>` equals the value (compared as the field's type).
    var custom: [(field: CustomField, value: JSONValue)] = []
    var sort: SortField = .createdAt
    var descending = true
    var after: Position?

    /// The position after a record whose sort values are these, for the next page.
    func position(id: UUID, createdAt: Date, updatedAt: Date, nameKey: String, score: Int = 0) -> Position {
        let value: String =
            switch sort {
            case .createdAt: String(createdAt.epochMilliseconds)
            case .updatedAt: String(updatedAt.epochMilliseconds)
            case .name: nameKey
            case .score: String(score)
            }
        return Position(value: value, id: id)
    }

    /// The `WHERE` conditions after the tenant's, each starting with ` AND`.
    func conditions(in tx: Transaction) throws -> SQLQueryString {
        var sql: SQLQueryString = ""
        if !statuses.isEmpty {
            sql.appendInterpolation(" AND l.status IN (\(binds: statuses.map(\.rawValue)))" as SQLQueryString)
        }
        if let converted {
            sql.appendLiteral(converted ? " AND l.converted_at IS NOT NULL" : " AND l.converted_at IS NULL")
        }
        if !dealStatuses.isEmpty {
            sql.appendInterpolation(" AND l.status IN (\(binds: dealStatuses.map(\.rawValue)))" as SQLQueryString)
        }
        if let pipelineID { sql.appendInterpolation(" AND l.pipeline_id = \(tx.bind(pipelineID))" as SQLQueryString) }
        if let stageID { sql.appendInterpolation(" AND l.stage_id = \(tx.bind(stageID))" as SQLQueryString) }
        if let companyID { sql.appendInterpolation(" AND l.company_id = \(tx.bind(companyID))" as SQLQueryString) }
        if let ownerID { sql.appendInterpolation(" AND l.owner_id = \(bind: ownerID)" as SQLQueryString) }
        if let source { sql.appendInterpolation(" AND l.source = \(bind: source)" as SQLQueryString) }
        if let email {
            sql.appendInterpolation(" AND l.email_key = \(bind: RecordTags.emailKey(email))" as SQLQueryString)
        }
        if let tag {
            sql.appendInterpolation(
                """
                 AND EXISTS (SELECT 1 FROM crm_record_tags t WHERE t.tenant_id = l.tenant_id
                 AND t.entity = \(bind: entity.rawValue) AND t.record_id = l.id AND t.tag = \(bind: tag))
                """ as SQLQueryString)
        }
        if let createdAfter {
            sql.appendInterpolation(" AND l.created_at > \(bind: createdAfter.epochMilliseconds)" as SQLQueryString)
        }
        if let createdBefore {
            sql.appendInterpolation(" AND l.created_at < \(bind: createdBefore.epochMilliseconds)" as SQLQueryString)
        }
        if let updatedAfter {
            sql.appendInterpolation(" AND l.updated_at > \(bind: updatedAfter.epochMilliseconds)" as SQLQueryString)
        }
        if let scoreMin { sql.appendInterpolation(" AND l.score >= \(bind: scoreMin)" as SQLQueryString) }
        if let scoreMax { sql.appendInterpolation(" AND l.score <= \(bind: scoreMax)" as SQLQueryString) }
        if let text {
            let pattern = "%" + Self.escapeLike(text.lowercased()) + "%"
            // Names are kept lower-case in name_key, emails in email_key; a lead's company and a company's domain
            // are searched too.
            let others: [String] =
                switch entity {
                case .lead: ["l.email_key", "lower(COALESCE(l.company, ''))"]
                case .contact: ["l.email_key"]
                case .company: ["COALESCE(l.domain, '')"]
                case .deal: []
                }
            sql.appendInterpolation(" AND (l.name_key LIKE \(bind: pattern) ESCAPE '\\'" as SQLQueryString)
            for column in others {
                sql.appendInterpolation(" OR \(unsafeRaw: column) LIKE \(bind: pattern) ESCAPE '\\'" as SQLQueryString)
            }
            sql.appendLiteral(")")
        }
        for (field, value) in custom {
            sql.appendInterpolation(try Self.customCondition(field: field, value: value, dialect: tx.dialect))
        }
        return sql
    }

    /// The keyset condition and order for the sort.
    func ordering(in tx: Transaction) throws -> (after: SQLQueryString, orderBy: SQLQueryString) {
        let column = sort.column
        let direction = descending ? "DESC" : "ASC"
        let comparison = descending ? "<" : ">"
        var after: SQLQueryString = ""
        if let position = self.after {
            let value: any SQLExpression
            if sort == .name {
                value = SQLBind(position.value)
            } else {
                guard let number = Int64(position.value) else { throw RecordQueryError.badPosition }
                value = SQLBind(number)
            }
            after.appendInterpolation(
                """
                 AND (l.\(unsafeRaw: column) \(unsafeRaw: comparison) \(value)
                 OR (l.\(unsafeRaw: column) = \(value) AND l.id \(unsafeRaw: comparison) \(tx.bind(position.id))))
                """ as SQLQueryString)
        }
        let orderBy: SQLQueryString = " ORDER BY l.\(unsafeRaw: column) \(unsafeRaw: direction), l.id \(unsafeRaw: direction)"
        return (after, orderBy)
    }

    /// `custom_fields.<key> = value`, compared as the field's type (the key is checked against the tenant's
    /// definitions before it gets here, and is bound anyway).
    static func customCondition(field: CustomField, value: JSONValue, dialect: DatabaseDialect) throws
        -> SQLQueryString
    {
        switch dialect {
        case .postgres:
            // Typed by the definition, but a value stored under an earlier definition of the same key may be of
            // another type: it is compared only when its JSON type fits, never cast (a failed cast is an error).
            let key = field.key
            let element: SQLQueryString = "(l.custom_fields::jsonb -> \(bind: key))"
            let text: SQLQueryString = "(l.custom_fields::jsonb ->> \(bind: key))"
            func typed(_ json: String, _ cast: String) -> SQLQueryString {
                "(CASE WHEN jsonb_typeof(\(element)) = \(bind: json) THEN \(text)::\(unsafeRaw: cast) END)"
            }
            switch value {
            case .integer(let number):
                return " AND \(typed("number", "numeric")) = \(bind: Double(number))"
            case .number(let number):
                return " AND \(typed("number", "numeric")) = \(bind: number)"
            case .bool(let flag):
                return " AND \(typed("boolean", "boolean")) = \(bind: flag)"
            case .string(let string):
                return " AND jsonb_typeof(\(element)) = 'string' AND \(text) = \(bind: string)"
            default:
                throw RecordQueryError.badPosition
            }
        case .sqlite:
            let extracted: SQLQueryString = "json_extract(l.custom_fields, \(bind: "$.\"\(field.key)\""))"
            switch value {
            case .integer(let number): return " AND \(extracted) = \(bind: Double(number))"
            case .number(let number): return " AND \(extracted) = \(bind: number)"
            case .bool(let flag): return " AND \(extracted) = \(bind: flag ? 1 : 0)"
            case .string(let text): return " AND \(extracted) = \(bind: text)"
            default: throw RecordQueryError.badPosition
            }
        }
    }

    /// `text` with LIKE's wildcards and the escape character escaped (`ESCAPE '\'`).
    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

enum RecordQueryError: Error {
    case badPosition
}
