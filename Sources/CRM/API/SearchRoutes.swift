import Foundation
import Hummingbird
import Kernel
import Platform

/// `GET /api/v1/crm/search?q=...`: full-text search across leads, contacts, companies and deals (`types` narrows
/// it), best matches first, the kinds the caller may read only. See `SearchIndex` for how each database matches.
struct SearchRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/search"

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { request, context in try await search(request, context) }
    }

    func search(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let tenant = try context.requireTenant()
        // 403 before anything about the query for a caller who may read no kind of record.
        guard principal.permissions.contains(.crmLeadsRead) || principal.permissions.contains(.crmDealsRead) else {
            throw Problem(status: .forbidden, detail: "searching needs crm.leads:read or crm.deals:read")
        }
        var validation = Validation()
        let text = request.query("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        if text.isEmpty || text.count > 200 {
            validation.add(FieldIssue(field: "q", code: "invalid_length", message: "1 to 200 characters"))
        }
        var types = CustomField.Entity.allCases
        if let list = request.query("types") {
            let parsed = list.split(separator: ",").map { CustomField.Entity(rawValue: String($0)) }
            if parsed.isEmpty || parsed.contains(nil) {
                validation.add(
                    FieldIssue(
                        field: "types", code: "invalid_value", message: "comma-separated: lead, contact, company, deal")
                )
            } else {
                types = parsed.compactMap { $0 }
            }
        }
        var limit = 20
        if let value = request.query("limit") {
            if let number = Int(value), (1...50).contains(number) {
                limit = number
            } else {
                validation.add(FieldIssue(field: "limit", code: "out_of_range", message: "1 to 50"))
            }
        }
        if !validation.issues.isEmpty {
            throw Problem(
                status: .badRequest, title: "Invalid query", detail: "the search's parameters are not valid",
                errors: validation.issues)
        }
        let readable = types.filter { type in
            principal.permissions.contains(type == .deal ? .crmDealsRead : .crmLeadsRead)
        }
        guard !readable.isEmpty else {
            throw Problem(status: .forbidden, detail: "searching these records needs crm.leads:read or crm.deals:read")
        }
        let count = limit
        let hits = try await services.database.read(tenant: tenant) { tx in
            try await SearchIndex().search(text, types: readable, limit: count, in: tx)
        }
        return try JSONResponse.make(Page(data: hits, nextCursor: nil))
    }
}
