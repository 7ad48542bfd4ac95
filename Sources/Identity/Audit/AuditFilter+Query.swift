import Foundation
import Hummingbird
import Kernel
import Platform

extension AuditFilter {
    /// The filter of an audit list's query (`actor_id`, `action` prefix, `target_type`, `target_id`, `outcome`,
    /// `since`, `until`); 422 naming the parameters that are not valid.
    static func parse(_ request: Request) throws -> AuditFilter {
        var filter = AuditFilter()
        var validation = Validation()
        filter.actorID = request.query("actor_id")
        filter.actionPrefix = request.query("action")
        filter.targetType = request.query("target_type")
        filter.targetID = request.query("target_id")
        if let outcome = request.query("outcome") {
            filter.outcome = AuditEntry.Outcome(rawValue: outcome)
            if filter.outcome == nil {
                validation.add(FieldIssue(field: "outcome", code: "invalid_value", message: "success or failure"))
            }
        }
        for (name, keyPath) in [("since", \AuditFilter.since), ("until", \AuditFilter.until)] {
            guard let text = request.query(name) else { continue }
            if let date = RFC3339.date(from: text) {
                filter[keyPath: keyPath] = date
            } else {
                validation.add(FieldIssue(field: name, code: "invalid_format", message: "an RFC 3339 time"))
            }
        }
        try validation.check()
        return filter
    }
}
