import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import CRM

@Suite struct AnalyticsTests {
    static let bob = "0194a3b2-0000-7000-8000-00000000b0b0"

    @Test(arguments: TestBackend.available)
    func thePeriodsFiguresAddUp(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let (_, stages) = try await h.defaultPipeline()
            let month = String(RFC3339.string(from: Date()).prefix(7))
            let today = String(RFC3339.string(from: Date()).prefix(10))
            func deal(_ name: String, _ amount: Int, _ currency: String = "EUR", owner: String = "ann") async throws -> String {
                try #require(
                    try await h.deal(
                        #"{"name":"\#(name)","value":{"amount_minor":\#(amount),"currency":"\#(currency)"},"expected_close":"\#(today)"\#(owner == "ann" ? "" : #","owner_id":"\#(owner)""#)}"#
                    )["id"] as? String)
            }
            func move(_ id: String, _ stage: String, reason: String? = nil) async throws {
                let extra = reason.map { #","close_reason":"\#($0)""# } ?? ""
                let reply = try await h.call(
                    .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(stages[stage]!)"\#(extra)}"#)
                #expect(reply.status == .ok, "\(reply.body)")
            }
            let a = try await deal("A", 10_000)
            let b = try await deal("B", 20_000)
            _ = try await deal("C", 5_000, "USD")
            let d = try await deal("D", 40_000, owner: Self.bob)
            let e = try await deal("E", 1_000)
            try await move(a, "Proposal")
            try await move(b, "Won")
            try await move(d, "Won")
            try await move(e, "Lost", reason: "price")
            for source in ["website", "website", "referral"] { _ = try await h.lead(#"{"first_name":"L","source":"\#(source)"}"#) }
            let qualified = try await ConversionTests.qualifiedLead(h, #"{"first_name":"Q","source":"website"}"#)
            #expect(try await h.call(.post, "/api/v1/crm/leads/\(qualified)/convert", json: #"{"deal":null}"#).status == .ok)

            let reply = try await h.call(.get, "/api/v1/crm/analytics")
            #expect(reply.status == .ok, "\(reply.body)")
            let result = try reply.object()
            // Open deals now: C (USD) in Lead, A in Proposal.
            let value = try #require(result["pipeline_value"] as? [[String: Any]])
            #expect(value.map { ($0["stage"] as? [String: Any])?["name"] as? String } == ["Lead", "Qualified", "Proposal", "Negotiation"])
            #expect(value.map { $0["count"] as? Int } == [1, 0, 1, 0])
            let proposal = try #require((value[2]["weighted"] as? [[String: Any]])?.first)
            #expect(proposal["amount_minor"] as? Int == 5_000)
            let forecast = try #require(result["forecast"] as? [[String: Any]])
            #expect(forecast.map { $0["month"] as? String } == [month])
            #expect(forecast.first?["count"] as? Int == 2)
            let winRate = try #require(result["win_rate"] as? [String: Any])
            #expect(winRate["won"] as? Int == 2)
            #expect(winRate["lost"] as? Int == 1)
            #expect(abs((winRate["rate"] as? Double ?? 0) - 2.0 / 3.0) < 0.0001)
            #expect((winRate["won_value"] as? [[String: Any]])?.first?["amount_minor"] as? Int == 60_000)
            let cycle = try #require(result["sales_cycle"] as? [String: Any])
            #expect(cycle["deals"] as? Int == 2)
            #expect((cycle["average_days"] as? Double).map { $0 >= 0 && $0 < 1 } == true)
            let velocity = try #require(result["stage_velocity"] as? [[String: Any]])
            // A, B, D and E left Lead; A is still in Proposal.
            #expect(velocity.first?["moves"] as? Int == 4)
            let leaders = try #require(result["leaderboard"] as? [[String: Any]])
            // By wins, then fewer losses.
            #expect(leaders.map { $0["owner_id"] as? String } == [Self.bob, "ann"])
            #expect(leaders.map { $0["won"] as? Int } == [1, 1])
            #expect(leaders.last?["lost"] as? Int == 1)
            let funnel = try #require(result["funnel"] as? [[String: Any]])
            #expect(funnel.map { $0["source"] as? String } == ["website", "referral"])
            #expect(funnel.first?["leads"] as? Int == 3)
            #expect(funnel.first?["converted"] as? Int == 1)
            #expect(funnel.first?["qualified"] as? Int == 1)

            // Without the leads permission there is no funnel; without the deals one, no analytics.
            let dealsOnly = try await h.call(.get, "/api/v1/crm/analytics", auth: "Bearer test:dan:crm.deals:read")
            #expect(try dealsOnly.object()["funnel"] is NSNull)
            #expect(try await h.call(.get, "/api/v1/crm/analytics", auth: CRMHarness.reader).status == .forbidden)
            // A period without them counts nothing.
            let past = try await h.call(.get, "/api/v1/crm/analytics?from=2001-01-01&to=2001-12-31").object()
            #expect((past["win_rate"] as? [String: Any])?["won"] as? Int == 0)
            for query in ["from=2026-13-01", "from=2026-02-01&to=2026-01-01", "from=2001-01-01&to=2026-01-01", "pipeline_id=x"] {
                #expect(try await h.call(.get, "/api/v1/crm/analytics?\(query)").status == .badRequest, "\(query)")
            }
            #expect(
                try await h.call(.get, "/api/v1/crm/analytics?pipeline_id=\(UUID().uuidString)").status == .notFound)
        }
    }

    @Test(arguments: TestBackend.available)
    func aTenantWithoutPipelinesHasEmptyAnalytics(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let reply = try await h.call(.get, "/api/v1/crm/analytics")
            #expect(reply.status == .ok, "\(reply.body)")
            #expect(try reply.object()["pipeline"] is NSNull)
        }
    }

    @Test(arguments: TestBackend.available)
    func theBoardAndAnalyticsAreCachedUntilTheTenantsDataChanges(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let (pipeline, stages) = try await h.defaultPipeline()
            let deal = try #require(
                try await h.deal(#"{"name":"A","value":{"amount_minor":100,"currency":"EUR"}}"#)["id"] as? String)
            func board() async throws -> [Int] {
                let reply = try await h.call(.get, "/api/v1/crm/pipelines/\(pipeline)/board")
                return (try reply.object()["stages"] as? [[String: Any]] ?? []).map { $0["count"] as? Int ?? -1 }
            }
            let start = h.services.cache.statistics
            #expect(try await board() == [1, 0, 0, 0, 0, 0])
            #expect(try await board() == [1, 0, 0, 0, 0, 0])
            var now = h.services.cache.statistics
            #expect(now.misses == start.misses + 1)
            #expect(now.hits == start.hits + 1)
            // Another tenant's change leaves this tenant's answers; this tenant's drops them at once.
            _ = try await h.call(
                .post, "/api/v1/crm/deals", json: #"{"name":"X","value":{"amount_minor":1,"currency":"EUR"}}"#,
                auth: CRMHarness.otherAdmin)
            _ = try await board()
            #expect(h.services.cache.statistics.hits == now.hits + 1)
            let moved = try await h.call(
                .patch, "/api/v1/crm/deals/\(deal)", json: #"{"stage_id":"\#(stages["Qualified"]!)"}"#)
            #expect(moved.status == .ok)
            #expect(try await board() == [0, 1, 0, 0, 0, 0])
            now = h.services.cache.statistics
            _ = try await h.call(.get, "/api/v1/crm/analytics")
            _ = try await h.call(.get, "/api/v1/crm/analytics")
            #expect(h.services.cache.statistics.hits == now.hits + 1)
        }
    }

    /// The `crm.cache` consumer drops a tenant's answers in every process: on PostgreSQL through a notification
    /// each process's listener takes.
    @Test(.enabled(if: TestBackend.available.contains(.postgres), "needs PostgreSQL (scripts/test starts it)"))
    func anEventDropsTheAnswersOfAnotherProcess() async throws {
        try await withTestDatabase(.postgres, migrations: PlatformMigrations.all + CRMModule().migrations) {
            database, _ in
            let tenant = TestAuthenticator.tenant
            let other = CRMCache()
            let listener = Task {
                try await CRMCacheListener(database: database, cache: other, logger: TestEnvironment.logger).run()
            }
            defer { listener.cancel() }
            _ = try await other.value(tenant: tenant, key: "k") { "first" }
            let invalidator = CRMCacheInvalidator(cache: CRMCache())
            let event = EventEnvelope(
                source: "/crm", type: "crm.deal.updated", subject: nil, tenant: tenant, traceparent: nil,
                data: JSONDocument(unchecked: "{}"))
            // The listener may not be listening yet: notify until the answer is gone (at most 20 s).
            var value = "first"
            for _ in 0..<100 where value == "first" {
                try await database.write(tenant: tenant) { tx in try await invalidator.handle(event, in: tx) }
                try await Task.sleep(for: .milliseconds(200))
                value = try await other.value(tenant: tenant, key: "k") { "second" }
            }
            #expect(value == "second")
        }
    }

    @Test(
        .enabled(
            if: TestEnvironment.redisURL != nil || TestEnvironment.isCI, "needs INOPSIO_TEST_REDIS_URL (scripts/test starts Redis)"))
    func aRedisCacheIsSharedAndDroppedForEveryInstance() async throws {
        let url = try #require(TestEnvironment.redisURL)
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .seconds(5)
        configuration.connectTimeout = .seconds(5)
        let first = CRMCache(redis: try RedisClient(configuration: configuration, logger: TestEnvironment.logger))
        let second = CRMCache(redis: try RedisClient(configuration: configuration, logger: TestEnvironment.logger))
        let tenant = TenantID(UUID.v7())
        #expect(try await first.value(tenant: tenant, key: "k") { "computed" } == "computed")
        #expect(try await second.value(tenant: tenant, key: "k") { "again" } == "computed")
        await first.invalidate(tenant)
        #expect(try await second.value(tenant: tenant, key: "k") { "fresh" } == "fresh")
        #expect(second.statistics == CRMCache.Statistics(hits: 1, misses: 1))
    }
}
