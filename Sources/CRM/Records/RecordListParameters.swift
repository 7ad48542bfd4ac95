import Foundation
import Hummingbird
import Kernel
import Platform

/// The query parameters of a record list as a `RecordQuery`. Every list: `owner_id`, `tag`, `created_after`,
/// `created_before`, `updated_after` (RFC 3339), `q` (text), `cf.<key>` (a custom field equals), `sort`
/// (`created_at`, `updated_at`, `name`, `-` first for descending; default `-created_at`) and `cursor`. Leads also
/// `status` (comma-separated), `source`, `email`, `score_min`, `score_max` and `sort=score`; contacts `email` and
/// `company_id`. Every bad value is one 400 naming it; a parameter of another kind of record is refused too.
enum RecordListParameters {
    static func sortFields(_ entity: CustomField.Entity) -> [String] {
        RecordQuery.SortField.allCases.filter { entity == .lead || $0 != .score }.map(\.rawValue)
    }

    /// The filters only this kind of record's list has.
    static func ownFilters(_ entity: CustomField.Entity) -> Set<String> {
        switch entity {
        case .lead: ["status", "source", "email", "score_min", "score_max", "converted"]
        case .contact: ["email", "company_id"]
        case .company: []
        case .deal: ["status", "company_id", "pipeline_id", "stage_id"]
        }
    }

    /// Every parameter of this kind of record's list but `cursor` (and the `cf.<key>` custom field filters).
    static func parameters(_ entity: CustomField.Entity) -> Set<String> {
        ownFilters(entity).union([
            "owner_id", "tag", "created_after", "created_before", "updated_after", "q", "sort", "limit",
            "include_total",
        ])
    }

    static func parse(_ request: Request, entity: CustomField.Entity, definitions: [CustomField]) throws -> RecordQuery
    {
        // Parsed once: `uri.queryParameters` parses the query string again on every use.
        let parameters = request.uri.queryParameters
        // An empty parameter (a form's blank field) is no filter.
        func parameter(_ name: String) -> String? {
            guard let value = parameters.get(name), !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                return nil
            }
            return value
        }
        var query = RecordQuery(entity)
        var issues: [FieldIssue] = []
        func issue(_ field: String, _ message: String) {
            issues.append(FieldIssue(field: field, code: "invalid_value", message: message))
        }
        func date(_ name: String) -> Date? {
            guard let text = parameter(name) else { return nil }
            guard let date = RFC3339.date(from: text) else {
                issue(name, "an RFC 3339 time such as 2026-01-31T12:00:00Z")
                return nil
            }
            return date
        }
        func score(_ name: String) -> Int? {
            guard let text = parameter(name) else { return nil }
            guard let value = Int(text), (0...100).contains(value) else {
                issue(name, "a whole number from 0 to 100")
                return nil
            }
            return value
        }
        let own = ownFilters(entity)
        for name in [
            "status", "source", "email", "score_min", "score_max", "company_id", "pipeline_id", "stage_id", "converted",
        ]
        where !own.contains(name) && parameter(name) != nil {
            issue(name, "not a filter of \(entity.rawValue) lists")
        }
        if let text = parameter("company_id"), own.contains("company_id") {
            if let id = UUID(uuidString: text) { query.companyID = id } else { issue("company_id", "a company id") }
        }
        if let text = parameter("converted"), own.contains("converted") {
            switch text {
            case "true": query.converted = true
            case "false": query.converted = false
            default: issue("converted", "true or false")
            }
        }
        for name in ["pipeline_id", "stage_id"] where own.contains(name) {
            guard let text = parameter(name) else { continue }
            guard let id = UUID(uuidString: text) else {
                issue(name, "an id")
                continue
            }
            if name == "pipeline_id" { query.pipelineID = id } else { query.stageID = id }
        }
        if let text = parameter("status"), entity == .deal {
            for part in text.split(separator: ",") {
                if let status = Deal.Status(rawValue: String(part)) {
                    query.dealStatuses.append(status)
                } else {
                    issue("status", "one or more of open, won, lost")
                }
            }
        } else if let text = parameter("status"), own.contains("status") {
            for part in text.split(separator: ",") {
                if let status = LeadStatus(rawValue: String(part)) {
                    query.statuses.append(status)
                } else {
                    issue("status", "one or more of \(LeadStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
        }
        query.ownerID = parameter("owner_id")?.lowercased()
        query.source = own.contains("source") ? parameter("source")?.lowercased() : nil
        query.tag = parameter("tag")?.trimmingCharacters(in: .whitespaces).lowercased()
        query.email = own.contains("email") ? parameter("email") : nil
        query.createdAfter = date("created_after")
        query.createdBefore = date("created_before")
        query.updatedAfter = date("updated_after")
        if entity == .lead {
            query.scoreMin = score("score_min")
            query.scoreMax = score("score_max")
        }
        if let text = parameter("q")?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if text.count > 200 { issue("q", "at most 200 characters") }
            query.text = text
        }
        for (name, value) in parameters where name.hasPrefix("cf.") {
            let key = String(name.dropFirst(3))
            guard let definition = definitions.first(where: { $0.key == key }) else {
                issue(String(name), "no \(entity.rawValue) custom field has the key \(key)")
                continue
            }
            guard let typed = typedValue(String(value), for: definition) else {
                issue(String(name), "a value of the field's type (\(definition.kind.rawValue))")
                continue
            }
            query.custom.append((definition, typed))
        }
        if let text = parameter("sort") {
            let descending = text.hasPrefix("-")
            if let field = RecordQuery.SortField(rawValue: descending ? String(text.dropFirst()) : text),
                entity == .lead || field != .score
            {
                query.sort = field
                query.descending = descending
            } else {
                issue("sort", "one of \(sortFields(entity).joined(separator: ", ")), with - first for descending")
            }
        }
        if let position = try request.cursorPosition() {
            guard let parsed = RecordQuery.Position(position), query.sort == .name || Int64(parsed.value) != nil else {
                throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
            }
            query.after = parsed
        }
        guard issues.isEmpty else {
            throw Problem(
                status: .badRequest, title: "Invalid query", detail: "\(issues.count) parameter(s) are not valid",
                errors: issues)
        }
        return query
    }

    /// A query string value as the JSON value of `field`'s type.
    static func typedValue(_ text: String, for field: CustomField) -> JSONValue? {
        let value: JSONValue
        switch field.kind {
        case .text, .select, .date: value = .string(text)
        case .number:
            if let integer = Int64(text) {
                value = .integer(integer)
            } else if let number = Double(text), number.isFinite {
                value = .number(number)
            } else {
                return nil
            }
        case .boolean:
            guard let flag = Bool(text) else { return nil }
            value = .bool(flag)
        }
        return field.check(value, field: "cf.\(field.key)") == nil ? value : nil
    }
}
