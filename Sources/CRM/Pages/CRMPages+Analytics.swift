import Foundation
import Hummingbird
import Kernel
import Platform

/// The analytics dashboard, and its SVG charts.
extension CRMPages {
    // MARK: analytics

    func analytics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmDealsRead)
        let tenant = try context.requireTenant()
        let funnel = try context.requirePrincipal().permissions.contains(.crmLeadsRead)
        let today = Calendar.utc.startOfDay(for: services.clock.now())
        let days = Int(request.query("days") ?? "") .flatMap { [30, 90, 365].contains($0) ? $0 : nil } ?? 90
        let from = today.addingTimeInterval(-Double(days - 1) * 86_400)
        let until = today.addingTimeInterval(86_400)
        let result = try await services.database.read(tenant: tenant) { tx -> CRMAnalytics? in
            guard let pipeline = try await PipelineStore().list(in: tx).first(where: \.isDefault) else { return nil }
            return try await AnalyticsStore().analytics(pipeline: pipeline, from: from, until: until, funnel: funnel, in: tx)
        }
        return frame(request, context, section: "analytics", title: "") { t in
            let periods = [30, 90, 365].map { value -> HTML in
                let marker: HTML = value == days ? #" aria-current="page""# : ""
                return #"<li><a href="/crm/analytics?days=\#(String(value))"\#(marker)>\#(t("crm.last_days")) \#(String(value))</a></li>"#
            }
            guard let result else {
                return "<p class=\"empty-state\">\(t("crm.no_pipeline"))</p>"
            }
            func first(_ sums: [Money]) -> Double { sums.first.map { Double($0.amountMinor) / 100 } ?? 0 }
            let value = Charts.bars(
                id: "chart-value", title: t("crm.chart.value"),
                bars: result.pipelineValue.map { ($0.stage.name, first($0.total), first($0.weighted)) },
                legend: (t("crm.total"), t("crm.weighted")))
            let forecast = Charts.bars(
                id: "chart-forecast", title: t("crm.chart.forecast"),
                bars: result.forecast.map { ($0.month, first($0.total), first($0.weighted)) },
                legend: (t("crm.total"), t("crm.weighted")))
            let funnelChart: HTML = (result.funnel).map { sources in
                Charts.bars(
                    id: "chart-funnel", title: t("crm.chart.funnel"),
                    bars: sources.map { ($0.source, Double($0.leads), Double($0.converted)) },
                    legend: (t("crm.leads"), t("crm.converted")))
            } ?? ""
            let rate = result.winRate.rate.map { String(format: "%.0f %%", $0 * 100) } ?? "—"
            let cycle = result.salesCycle.averageDays.map { String(format: "%.1f", $0) } ?? "—"
            let leaders = result.leaderboard.map { leader -> HTML in
                "<tr><td>\(leader.ownerID ?? "—")</td><td>\(String(leader.won))</td><td>\(String(leader.lost))</td><td>\(leader.wonValue.map { String(format: "%.2f %@", Double($0.amountMinor) / 100, $0.currency.code) }.joined(separator: ", "))</td></tr>"
            }
            let velocity = result.stageVelocity.map { stage -> HTML in
                "<tr><td>\(stage.name)</td><td>\(String(stage.moves))</td><td>\(stage.averageDays.map { String(format: "%.1f", $0) } ?? "—")</td></tr>"
            }
            return """
                <nav aria-label="\(t("crm.period"))"><ul class="admin-menu">\(periods)</ul></nav>
                <dl class="crm-details" id="kpis"><dt>\(t("crm.win_rate"))</dt><dd data-kpi="win-rate">\(rate)</dd>
                <dt>\(t("crm.won_lost"))</dt><dd>\(String(result.winRate.won)) / \(String(result.winRate.lost))</dd>
                <dt>\(t("crm.sales_cycle"))</dt><dd>\(cycle)</dd></dl>
                <div class="crm-charts">\(value)\(forecast)\(funnelChart)</div>
                <h2>\(t("crm.leaderboard"))</h2><div class="table-wrap"><table class="table" id="leaderboard"><thead><tr><th scope="col">\(t("crm.field.owner_id"))</th>
                <th scope="col">\(t("crm.won"))</th><th scope="col">\(t("crm.lost"))</th><th scope="col">\(t("crm.won_value"))</th></tr></thead><tbody>\(leaders)</tbody></table></div>
                <h2>\(t("crm.velocity"))</h2><div class="table-wrap"><table class="table"><thead><tr><th scope="col">\(t("crm.stage"))</th>
                <th scope="col">\(t("crm.moves"))</th><th scope="col">\(t("crm.days"))</th></tr></thead><tbody>\(velocity)</tbody></table></div>
                """
        }
    }
}

/// Charts drawn on the server as SVG: readable without script, by screen readers (a title, and each bar's value
/// as text), in both themes (colours from CSS).
enum Charts {
    /// Pairs of bars (a value and a second, such as weighted) per label.
    static func bars(id: String, title: String, bars: [(String, Double, Double)], legend: (String, String)) -> HTML {
        let width = 640.0
        let rowHeight = 34.0
        let labelWidth = 160.0
        let height = max(1, Double(bars.count)) * rowHeight + 30
        let largest = max(bars.map { max($0.1, $0.2) }.max() ?? 0, 1)
        let scale = (width - labelWidth - 90) / largest
        let rows = bars.enumerated().map { index, bar -> HTML in
            let y = Double(index) * rowHeight + 24
            let first = bar.1 * scale
            let second = bar.2 * scale
            return """
                <g><text x="0" y="\(format(y + 14))" class="chart-label">\(bar.0)</text>
                <rect x="\(format(labelWidth))" y="\(format(y))" width="\(format(first))" height="12" class="chart-bar"><title>\(bar.0): \(format(bar.1))</title></rect>
                <rect x="\(format(labelWidth))" y="\(format(y + 14))" width="\(format(second))" height="12" class="chart-bar-2"><title>\(bar.0): \(format(bar.2))</title></rect>
                <text x="\(format(labelWidth + max(first, second) + 6))" y="\(format(y + 14))" class="chart-value">\(format(bar.1)) / \(format(bar.2))</text></g>
                """
        }
        return """
            <figure class="crm-chart" id="\(id)"><figcaption>\(title)</figcaption>
            <svg viewBox="0 0 \(format(width)) \(format(height))" role="img" aria-labelledby="\(id)-title" preserveAspectRatio="xMinYMin meet">
            <title id="\(id)-title">\(title)</title>
            <rect x="0" y="2" width="12" height="12" class="chart-bar"></rect><text x="18" y="13" class="chart-label">\(legend.0)</text>
            <rect x="\(format(width / 3))" y="2" width="12" height="12" class="chart-bar-2"></rect><text x="\(format(width / 3 + 18))" y="13" class="chart-label">\(legend.1)</text>
            \(rows)</svg></figure>
            """
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.1f", value)
    }
}

extension Array {
    /// `transform` on each element in order, awaiting each.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
