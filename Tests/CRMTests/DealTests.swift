import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

extension CRMHarness {
    /// The default pipeline's id and its stages' ids by name.
    func defaultPipeline() async throws -> (id: String, stages: [String: String]) {
        let reply = try await call(.get, "/api/v1/crm/pipelines")
        #expect(reply.status == .ok, "\(reply.body)")
        let pipeline = try #require((try reply.object()["data"] as? [[String: Any]])?.first)
        var stages: [String: String] = [:]
        for stage in pipeline["stages"] as? [[String: Any]] ?? [] {
            stages[stage["name"] as? String ?? ""] = stage["id"] as? String
        }
        return (try #require(pipeline["id"] as? String), stages)
    }

    func deal(_ json: String) async throws -> [String: Any] {
        let reply = try await call(.post, "/api/v1/crm/deals", json: json)
        #expect(reply.status == .created, "\(reply.body)")
        return try reply.object()
    }
}

@Suite struct DealTests {
    @Test(arguments: TestBackend.available)
    func aTenantStartsWithTheDefaultPipeline(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let reply = try await h.call(.get, "/api/v1/crm/pipelines")
            let pipelines = try #require(try reply.object()["data"] as? [[String: Any]])
            #expect(pipelines.count == 1)
            #expect(pipelines[0]["is_default"] as? Bool == true)
            let stages = try #require(pipelines[0]["stages"] as? [[String: Any]])
            #expect(stages.map { $0["name"] as? String } == ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"])
            #expect(stages.map { $0["probability"] as? Int } == [10, 25, 50, 75, 100, 0])
            #expect(stages.map { $0["kind"] as? String } == ["open", "open", "open", "open", "won", "lost"])
            // Reading again makes no second pipeline.
            #expect(try await h.call(.get, "/api/v1/crm/pipelines").object()["data"].map { ($0 as? [Any])?.count } == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func stageMovesAreRecordedAndClosingNeedsAReasonWhenLost(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let pipeline = try await h.defaultPipeline()
            let deal = try await h.deal(
                #"{"name":"Big order","value":{"amount_minor":1250000,"currency":"eur"},"expected_close":"2027-01-31"}"#)
            let id = try #require(deal["id"] as? String)
            #expect(deal["stage_id"] as? String == pipeline.stages["Lead"])
            #expect(deal["probability"] as? Int == 10)
            #expect(deal["status"] as? String == "open")
            #expect((deal["value"] as? [String: Any])?["currency"] as? String == "EUR")

            let moved = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(pipeline.stages["Proposal"]!)"}"#)
            #expect(moved.status == .ok, "\(moved.body)")
            #expect(try moved.object()["probability"] as? Int == 50)
            let lostWithoutReason = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(pipeline.stages["Lost"]!)"}"#)
            #expect(lostWithoutReason.status == .unprocessableContent)
            #expect(try lostWithoutReason.errorFields() == ["close_reason"])
            let lost = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)",
                json: #"{"stage_id":"\#(pipeline.stages["Lost"]!)","close_reason":"Budget cut"}"#)
            #expect(try lost.object()["status"] as? String == "lost")
            #expect(!(try lost.object()["closed_at"] is NSNull))
            let reopened = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(pipeline.stages["Negotiation"]!)"}"#)
            #expect(try reopened.object()["status"] as? String == "open")
            #expect(try reopened.object()["closed_at"] is NSNull)
            let won = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(pipeline.stages["Won"]!)"}"#)
            #expect(try won.object()["status"] as? String == "won")

            let history = try await h.call(.get, "/api/v1/crm/deals/\(id)/history")
            let moves = try #require(try history.object()["data"] as? [[String: Any]])
            #expect(
                moves.map { $0["to_stage_id"] as? String } == [
                    pipeline.stages["Lead"], pipeline.stages["Proposal"], pipeline.stages["Lost"],
                    pipeline.stages["Negotiation"], pipeline.stages["Won"],
                ])
            #expect(moves.first?["from_stage_id"] is NSNull)
            let types = try await h.eventTypes()
            #expect(types.filter { $0 == "crm.deal.stage_changed" }.count == 4)
            #expect(types.filter { $0 == "crm.deal.lost" }.count == 1)
            #expect(types.filter { $0 == "crm.deal.won" }.count == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func dealsAreValidatedAgainstTheTenantsRecords(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let pipeline = try await h.defaultPipeline()
            let missing = try await h.call(.post, "/api/v1/crm/deals", json: #"{"name":"No value"}"#)
            #expect(try missing.errorFields() == ["value"])
            let bad = try await h.call(
                .post, "/api/v1/crm/deals",
                json: #"{"name":"X","value":{"amount_minor":-5,"currency":"EURO"},"probability":101,"expected_close":"2027-02-30"}"#
            )
            #expect(try bad.errorFields() == ["expected_close", "probability", "value"])
            let theirCompany = try #require(
                try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Theirs"}"#, auth: CRMHarness.otherAdmin)
                    .object()["id"] as? String)
            let foreign = try await h.call(
                .post, "/api/v1/crm/deals",
                json: #"{"name":"X","value":{"amount_minor":1,"currency":"EUR"},"company_id":"\#(theirCompany)","#
                    + #""contact_ids":["\#(UUID().uuidString)"],"stage_id":"\#(UUID().uuidString)"}"#)
            #expect(try foreign.errorFields() == ["company_id", "contact_ids[0]", "stage_id"])
            let otherPipeline = try await h.call(
                .post, "/api/v1/crm/pipelines",
                json: #"{"name":"Renewals","stages":[{"name":"Due","probability":60},{"name":"Renewed","probability":100,"kind":"won"},{"name":"Churned","probability":0,"kind":"lost"}]}"#
            )
            #expect(otherPipeline.status == .created, "\(otherPipeline.body)")
            let renewalsID = try #require(try otherPipeline.object()["id"] as? String)
            let wrongStage = try await h.call(
                .post, "/api/v1/crm/deals",
                json: #"{"name":"X","value":{"amount_minor":1,"currency":"EUR"},"pipeline_id":"\#(renewalsID)","stage_id":"\#(pipeline.stages["Lead"]!)"}"#
            )
            #expect(try wrongStage.errorFields() == ["stage_id"])
            let renewal = try await h.deal(
                #"{"name":"Renewal","value":{"amount_minor":100,"currency":"EUR"},"pipeline_id":"\#(renewalsID)"}"#)
            #expect(renewal["probability"] as? Int == 60)
        }
    }

    @Test(arguments: TestBackend.available)
    func theBoardSumsEveryDealPerStageAndCurrency(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let pipeline = try await h.defaultPipeline()
            let proposal = pipeline.stages["Proposal"]!
            _ = try await h.deal(#"{"name":"A","value":{"amount_minor":1000,"currency":"EUR"}}"#)
            _ = try await h.deal(#"{"name":"B","value":{"amount_minor":333,"currency":"EUR"},"stage_id":"\#(proposal)"}"#)
            _ = try await h.deal(#"{"name":"C","value":{"amount_minor":500,"currency":"USD"},"stage_id":"\#(proposal)"}"#)
            _ = try await h.deal(
                #"{"name":"D","value":{"amount_minor":1001,"currency":"EUR"},"stage_id":"\#(proposal)","probability":33}"#)
            let board = try await h.call(.get, "/api/v1/crm/pipelines/\(pipeline.id)/board?limit=2")
            #expect(board.status == .ok, "\(board.body)")
            let columns = try #require(try board.object()["stages"] as? [[String: Any]])
            #expect(columns.count == 6)
            let column = try #require(columns.first { ($0["stage"] as? [String: Any])?["id"] as? String == proposal })
            #expect(column["count"] as? Int == 3)
            #expect((column["deals"] as? [Any])?.count == 2)
            let total = try #require(column["total"] as? [[String: Any]])
            #expect(total.map { $0["currency"] as? String } == ["EUR", "USD"])
            #expect(total.map { $0["amount_minor"] as? Int } == [1334, 500])
            let weighted = try #require(column["weighted"] as? [[String: Any]])
            // 333 × 50 % = 166 (rounded down), 1001 × 33 % = 330; 500 × 50 % = 250.
            #expect(weighted.map { $0["amount_minor"] as? Int } == [496, 250])
        }
    }

    @Test(arguments: TestBackend.available)
    func stagesAreRenamedReorderedAndOnlyEmptyOnesRemoved(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let pipeline = try await h.defaultPipeline()
            _ = try await h.deal(
                #"{"name":"A","value":{"amount_minor":1,"currency":"EUR"},"stage_id":"\#(pipeline.stages["Proposal"]!)"}"#)
            func stages(_ names: [String], rename: [String: String] = [:]) -> String {
                let items = names.map { name in
                    #"{"id":"\#(pipeline.stages[name]!)","name":"\#(rename[name] ?? name)","probability":50}"#
                }
                return #"{"stages":[\#(items.joined(separator: ","))]}"#
            }
            let withoutProposal = try await h.call(
                .patch, "/api/v1/crm/pipelines/\(pipeline.id)", json: stages(["Lead", "Won", "Lost"]))
            #expect(withoutProposal.status == .conflict)
            let renamed = try await h.call(
                .patch, "/api/v1/crm/pipelines/\(pipeline.id)",
                json: stages(["Proposal", "Lead", "Won", "Lost"], rename: ["Proposal": "Offer"]))
            #expect(renamed.status == .ok, "\(renamed.body)")
            let names = (try renamed.object()["stages"] as? [[String: Any]] ?? []).map { $0["name"] as? String }
            #expect(names == ["Offer", "Lead", "Won", "Lost"])
            let noLost = try await h.call(
                .patch, "/api/v1/crm/pipelines/\(pipeline.id)", json: stages(["Proposal", "Lead", "Won"]))
            #expect(noLost.status == .unprocessableContent)
            #expect(try await h.call(.delete, "/api/v1/crm/pipelines/\(pipeline.id)").status == .conflict)
        }
    }
}
