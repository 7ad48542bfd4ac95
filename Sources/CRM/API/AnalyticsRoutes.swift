import Foundation
import Hummingbird
import Kernel
import Platform

/// `GET /api/v1/crm/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD&pipeline_id=...`: one pipeline's (the default one's
/// unless given) sales figures for a period of days (UTC, both ends included; the last 90 days unless given, at
/// most 3 years): the open pipeline's value per stage now, the weighted forecast of open deals by expected close
/// month, win rate, wins and losses by owner, the average sales cycle of won deals, the average days deals spent
/// in each stage, and the leads created by source with how far they got (by their status now; `null` without
/// `crm.leads:read`). Needs `crm.deals:read`. Read through the CRM cache (`CRMCache`).
struct AnalyticsRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/analytics"
    static let maxDays = 3 * 366

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { request, context in try await analytics(request, context) }
    }

    func analytics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmDealsRead)
        let tenant = try context.requireTenant()
        let funnel = try context.requirePrincipal().permissions.contains(.crmLeadsRead)
        var validation = Validation()
        func day(_ name: String) -> Date? {
            guard let text = request.query(name) else { return nil }
            guard CustomField.isDate(text), let date = RFC3339.date(from: text + "T00:00:00Z") else {
                validation.add(FieldIssue(field: name, code: "invalid_format", message: "a date as YYYY-MM-DD"))
                return nil
            }
            return date
        }
        let today = Calendar.utc.startOfDay(for: services.clock.now())
        let lastDay = day("to") ?? today
        let from = day("from") ?? lastDay.addingTimeInterval(-89 * 86_400)
        let until = lastDay.addingTimeInterval(86_400)
        if from >= until {
            validation.add(FieldIssue(field: "from", code: "invalid_value", message: "on or before to"))
        } else if until.timeIntervalSince(from) > Double(Self.maxDays) * 86_400 {
            validation.add(
                FieldIssue(field: "from", code: "invalid_value", message: "at most \(Self.maxDays) days before to"))
        }
        var pipelineID: ID<Pipeline>?
        if let text = request.query("pipeline_id") {
            if let id = ID<Pipeline>(text) {
                pipelineID = id
            } else {
                validation.add(FieldIssue(field: "pipeline_id", code: "invalid_format", message: "a pipeline id"))
            }
        }
        if !validation.issues.isEmpty {
            throw Problem(
                status: .badRequest, title: "Invalid query", detail: "the analytics' parameters are not valid",
                errors: validation.issues)
        }
        let database = services.database
        let key =
            "analytics|\(pipelineID?.description ?? "default")|\(from.epochMilliseconds)|\(until.epochMilliseconds)|\(funnel)"
        let wanted = pipelineID
        let text = try await services.cache.value(tenant: tenant, key: key) {
            let analytics = try await database.read(tenant: tenant) { tx -> CRMAnalytics? in
                let pipeline: Pipeline?
                if let wanted {
                    pipeline = try await PipelineStore().find(wanted, in: tx)
                } else {
                    pipeline = try await PipelineStore().list(in: tx).first { $0.isDefault }
                }
                guard let pipeline else { return nil }
                return try await AnalyticsStore().analytics(
                    pipeline: pipeline, from: from, until: until, funnel: funnel, in: tx)
            }
            guard let analytics else {
                if wanted != nil { throw DomainError.notFound(entity: "pipeline") }
                // A tenant that never opened its pipelines: nothing to count yet.
                return try JSONResponse.text(
                    CRMAnalytics(
                        from: CRMAnalytics.day(from), to: CRMAnalytics.day(lastDay), pipelineID: "", pipelineName: "",
                        pipelineValue: [], forecast: [],
                        winRate: CRMAnalytics.WinRate(won: 0, lost: 0, rate: nil, wonValue: []),
                        salesCycle: CRMAnalytics.Cycle(deals: 0, averageDays: nil), stageVelocity: [],
                        funnel: funnel ? [] : nil, leaderboard: []))
            }
            return try JSONResponse.text(analytics)
        }
        return JSONResponse.json(text)
    }
}

extension Calendar {
    /// The Gregorian calendar in UTC (days of analytics periods).
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
