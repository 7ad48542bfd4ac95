import Foundation
import Kernel
import Platform
import SQLKit

/// The sales analytics of one pipeline for a period, summed by the database (`CRMAnalytics`).
struct AnalyticsStore: Sendable {
    /// `SUM(expression)` that cannot overflow: a sum beyond 2^63 - 1 minor units is held there (on SQLite sums are
    /// exact up to 2^53).
    static func sum(_ expression: String, _ dialect: DatabaseDialect) -> String {
        switch dialect {
        case .postgres: "CAST(LEAST(SUM(CAST(\(expression) AS NUMERIC)), 9223372036854775807) AS BIGINT)"
        case .sqlite: "CAST(MIN(TOTAL(\(expression)), 9.2e18) AS INTEGER)"
        }
    }

    /// Per currency sums, as `Money`, from rows with `currency` and the `column`.
    static func money(_ rows: [any SQLRow], _ column: String) throws -> [Money] {
        var sums: [String: Int64] = [:]
        for row in rows {
            sums[try row.decode(column: "currency", as: String.self), default: 0] +=
                try row.decode(column: column, as: Int64.self)
        }
        return sums.keys.sorted().compactMap { code in
            CurrencyCode(code).map { Money(amountMinor: sums[code] ?? 0, currency: $0) }
        }
    }

    func analytics(
        pipeline: Pipeline, from: Date, until: Date, funnel: Bool, in tx: Transaction
    ) async throws -> CRMAnalytics {
        let tenant = try tx.requireTenant()
        let scope: SQLQueryString = "tenant_id = \(tx.bind(tenant)) AND pipeline_id = \(tx.bind(pipeline.id.rawValue))"
        let start = from.epochMilliseconds
        let end = until.epochMilliseconds

        // The open pipeline now, per stage.
        let open = try await tx.sql.raw(
            """
            SELECT stage_id, currency, COUNT(*) AS deals, \(unsafeRaw: Self.sum("amount_minor", tx.dialect)) AS total,
                   \(unsafeRaw: Self.sum("amount_minor * probability / 100", tx.dialect)) AS weighted
            FROM crm_deals WHERE \(scope) AND status = 'open' GROUP BY stage_id, currency
            """
        ).all()
        var value: [CRMAnalytics.StageValue] = []
        for stage in pipeline.ordered where stage.kind == .open {
            let rows = try open.filter { try $0.decodeUUID(column: "stage_id") == stage.id.rawValue }
            value.append(
                CRMAnalytics.StageValue(
                    stage: stage, count: try rows.reduce(0) { $0 + (try $1.decode(column: "deals", as: Int.self)) },
                    total: try Self.money(rows, "total"), weighted: try Self.money(rows, "weighted")))
        }

        // Open deals expected to close in the period, per month.
        let fromDay = CRMAnalytics.day(from)
        let toDay = CRMAnalytics.day(until.addingTimeInterval(-1))
        let expected = try await tx.sql.raw(
            """
            SELECT substr(expected_close, 1, 7) AS month, currency, COUNT(*) AS deals,
                   \(unsafeRaw: Self.sum("amount_minor", tx.dialect)) AS total,
                   \(unsafeRaw: Self.sum("amount_minor * probability / 100", tx.dialect)) AS weighted
            FROM crm_deals WHERE \(scope) AND status = 'open'
              AND expected_close >= \(bind: fromDay) AND expected_close <= \(bind: toDay)
            GROUP BY substr(expected_close, 1, 7), currency
            """
        ).all()
        var months: [String: [any SQLRow]] = [:]
        for row in expected { months[try row.decode(column: "month", as: String.self), default: []].append(row) }
        let forecast = try months.keys.sorted().map { month in
            let rows = months[month] ?? []
            return CRMAnalytics.Month(
                month: month, count: try rows.reduce(0) { $0 + (try $1.decode(column: "deals", as: Int.self)) },
                total: try Self.money(rows, "total"), weighted: try Self.money(rows, "weighted"))
        }

        // Deals closed in the period: win rate and leaderboard.
        let closed = try await tx.sql.raw(
            """
            SELECT owner_id, status, currency, COUNT(*) AS deals, \(unsafeRaw: Self.sum("amount_minor", tx.dialect)) AS value
            FROM crm_deals WHERE \(scope) AND status IN ('won', 'lost')
              AND closed_at >= \(bind: start) AND closed_at < \(bind: end)
            GROUP BY owner_id, status, currency
            """
        ).all()
        func count(_ rows: [any SQLRow], _ status: String) throws -> Int {
            try rows.filter { try $0.decode(column: "status", as: String.self) == status }
                .reduce(0) { $0 + (try $1.decode(column: "deals", as: Int.self)) }
        }
        let wonRows = try closed.filter { try $0.decode(column: "status", as: String.self) == "won" }
        let won = try count(closed, "won")
        let lost = try count(closed, "lost")
        let winRate = CRMAnalytics.WinRate(
            won: won, lost: lost, rate: won + lost == 0 ? nil : Double(won) / Double(won + lost),
            wonValue: try Self.money(wonRows, "value"))
        var owners: [String: [any SQLRow]] = [:]
        for row in closed {
            owners[try row.decode(column: "owner_id", as: String?.self) ?? "", default: []].append(row)
        }
        let leaderboard = try owners.map { owner, rows in
            CRMAnalytics.Leader(
                ownerID: owner.isEmpty ? nil : owner, won: try count(rows, "won"), lost: try count(rows, "lost"),
                wonValue: try Self.money(
                    try rows.filter { try $0.decode(column: "status", as: String.self) == "won" }, "value"))
        }.sorted { ($0.won, $0.lost * -1, $0.ownerID ?? "") > ($1.won, $1.lost * -1, $1.ownerID ?? "") }

        // How long won deals took, created to won.
        let cycle = try await tx.sql.raw(
            """
            SELECT COUNT(*) AS deals, CAST(AVG(closed_at - created_at) AS DOUBLE PRECISION) AS average
            FROM crm_deals WHERE \(scope) AND status = 'won' AND closed_at >= \(bind: start) AND closed_at < \(bind: end)
            """
        ).first()
        let cycleDeals = try cycle?.decode(column: "deals", as: Int.self) ?? 0
        let salesCycle = CRMAnalytics.Cycle(
            deals: cycleDeals,
            averageDays: cycleDeals == 0
                ? nil : (try cycle?.decode(column: "average", as: Double?.self)).flatMap { $0 }.map { $0 / 86_400_000 })

        // Time in each stage, from the stage moves that left it during the period.
        let moves = try await tx.sql.raw(
            """
            SELECT h1.to_stage_id AS stage_id, COUNT(*) AS moves,
                   CAST(AVG(h2.moved_at - h1.moved_at) AS DOUBLE PRECISION) AS average
            FROM crm_deal_stage_history h1
            JOIN crm_deal_stage_history h2
              ON h2.tenant_id = h1.tenant_id AND h2.deal_id = h1.deal_id AND h2.seq = h1.seq + 1
            WHERE h1.tenant_id = \(tx.bind(tenant)) AND h2.moved_at >= \(bind: start) AND h2.moved_at < \(bind: end)
            GROUP BY h1.to_stage_id
            """
        ).all()
        var velocity: [CRMAnalytics.Velocity] = []
        for stage in pipeline.ordered where stage.kind == .open {
            guard let row = try moves.first(where: { try $0.decodeUUID(column: "stage_id") == stage.id.rawValue })
            else {
                velocity.append(
                    CRMAnalytics.Velocity(stageID: stage.id.description, name: stage.name, moves: 0, averageDays: nil))
                continue
            }
            velocity.append(
                CRMAnalytics.Velocity(
                    stageID: stage.id.description, name: stage.name,
                    moves: try row.decode(column: "moves", as: Int.self),
                    averageDays: try row.decode(column: "average", as: Double?.self).map { $0 / 86_400_000 }))
        }

        // Leads created in the period by source, and how far they got (by their status now).
        var sources: [CRMAnalytics.Source]?
        if funnel {
            sources = try await tx.sql.raw(
                """
                SELECT source, COUNT(*) AS leads,
                  SUM(CASE WHEN status IN ('contacted', 'qualified') OR converted_at IS NOT NULL THEN 1 ELSE 0 END) AS contacted,
                  SUM(CASE WHEN status = 'qualified' OR converted_at IS NOT NULL THEN 1 ELSE 0 END) AS qualified,
                  SUM(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END) AS converted,
                  SUM(CASE WHEN status = 'unqualified' THEN 1 ELSE 0 END) AS unqualified
                FROM crm_leads WHERE tenant_id = \(tx.bind(tenant))
                  AND created_at >= \(bind: start) AND created_at < \(bind: end)
                GROUP BY source ORDER BY COUNT(*) DESC, source
                """
            ).all().map { row in
                CRMAnalytics.Source(
                    source: try row.decode(column: "source", as: String.self),
                    leads: try row.decode(column: "leads", as: Int.self),
                    contacted: try row.decode(column: "contacted", as: Int.self),
                    qualified: try row.decode(column: "qualified", as: Int.self),
                    converted: try row.decode(column: "converted", as: Int.self),
                    unqualified: try row.decode(column: "unqualified", as: Int.self))
            }
        }
        return CRMAnalytics(
            from: fromDay, to: toDay, pipelineID: pipeline.id.description, pipelineName: pipeline.name,
            pipelineValue: value, forecast: forecast, winRate: winRate, salesCycle: salesCycle,
            stageVelocity: velocity, funnel: sources, leaderboard: leaderboard)
    }
}

/// A pipeline's analytics for a period (the answer of `GET /api/v1/crm/analytics`).
struct CRMAnalytics: Sendable, Encodable {
    struct StageValue: Sendable, Encodable {
        let stage: Pipeline.Stage
        let count: Int
        let total: [Money]
        let weighted: [Money]
    }

    struct Month: Sendable, Encodable {
        let month: String
        let count: Int
        let total: [Money]
        let weighted: [Money]
    }

    struct WinRate: Sendable, Encodable {
        let won: Int
        let lost: Int
        let rate: Double?
        let wonValue: [Money]

        enum CodingKeys: String, CodingKey {
            case won, lost, rate
            case wonValue = "won_value"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(won, forKey: .won)
            try container.encode(lost, forKey: .lost)
            try container.encode(rate, forKey: .rate)
            try container.encode(wonValue, forKey: .wonValue)
        }
    }

    struct Cycle: Sendable, Encodable {
        let deals: Int
        let averageDays: Double?

        enum CodingKeys: String, CodingKey {
            case deals
            case averageDays = "average_days"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(deals, forKey: .deals)
            try container.encode(averageDays, forKey: .averageDays)
        }
    }

    struct Velocity: Sendable, Encodable {
        let stageID: String
        let name: String
        let moves: Int
        let averageDays: Double?

        enum CodingKeys: String, CodingKey {
            case name, moves
            case stageID = "stage_id"
            case averageDays = "average_days"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stageID, forKey: .stageID)
            try container.encode(name, forKey: .name)
            try container.encode(moves, forKey: .moves)
            try container.encode(averageDays, forKey: .averageDays)
        }
    }

    struct Source: Sendable, Encodable {
        let source: String
        let leads: Int
        let contacted: Int
        let qualified: Int
        let converted: Int
        let unqualified: Int
    }

    struct Leader: Sendable, Encodable {
        let ownerID: String?
        let won: Int
        let lost: Int
        let wonValue: [Money]

        enum CodingKeys: String, CodingKey {
            case won, lost
            case ownerID = "owner_id"
            case wonValue = "won_value"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ownerID, forKey: .ownerID)
            try container.encode(won, forKey: .won)
            try container.encode(lost, forKey: .lost)
            try container.encode(wonValue, forKey: .wonValue)
        }
    }

    let from: String
    let to: String
    let pipelineID: String
    let pipelineName: String
    let pipelineValue: [StageValue]
    let forecast: [Month]
    let winRate: WinRate
    let salesCycle: Cycle
    let stageVelocity: [Velocity]
    /// `nil` for callers who may not read leads.
    let funnel: [Source]?
    let leaderboard: [Leader]

    enum CodingKeys: String, CodingKey {
        case from, to, forecast, funnel, leaderboard
        case pipeline
        case pipelineValue = "pipeline_value"
        case winRate = "win_rate"
        case salesCycle = "sales_cycle"
        case stageVelocity = "stage_velocity"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        if pipelineID.isEmpty {
            try container.encodeNil(forKey: .pipeline)
        } else {
            try container.encode(["id": pipelineID, "name": pipelineName], forKey: .pipeline)
        }
        try container.encode(pipelineValue, forKey: .pipelineValue)
        try container.encode(forecast, forKey: .forecast)
        try container.encode(winRate, forKey: .winRate)
        try container.encode(salesCycle, forKey: .salesCycle)
        try container.encode(stageVelocity, forKey: .stageVelocity)
        try container.encode(funnel, forKey: .funnel)
        try container.encode(leaderboard, forKey: .leaderboard)
    }

    /// `date`'s day in UTC, as YYYY-MM-DD.
    static func day(_ date: Date) -> String { String(RFC3339.string(from: date).prefix(10)) }
}
