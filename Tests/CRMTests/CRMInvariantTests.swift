import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import CRM

/// A small deterministic random source (SplitMix64), so a failing sequence can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random sequences of creates, updates, status and stage moves and conversions, through the API, then the
/// invariants: a lead converts once; every deal's stage history is complete; each stage's board totals equal the
/// sum of its deals.
@Suite struct CRMInvariantTests {
    @Test(arguments: TestBackend.available, [1, 2, 3] as [UInt64])
    func randomSequencesKeepTheInvariants(_ backend: TestBackend, _ seed: UInt64) async throws {
        try await withCRM(backend) { h in
            var random = SeededRandom(state: seed)
            let pipeline = try await h.defaultPipeline()
            let stageIDs = Array(pipeline.stages.values).sorted()
            let statuses = ["new", "contacted", "qualified", "unqualified"]
            let currencies = ["EUR", "USD"]
            var leads: [String] = []
            /// Each lead's status as the API last answered it: moves mostly go forward, so leads get qualified.
            var status: [String: String] = [:]
            let forward = ["new": "contacted", "contacted": "qualified", "unqualified": "contacted", "qualified": "new"]
            var deals: [String] = []
            var converted = 0
            for step in 0..<120 {
                switch Int.random(in: 0..<7, using: &random) {
                case 0, 1:
                    let reply = try await h.call(
                        .post, "/api/v1/crm/leads",
                        json: #"{"last_name":"L\#(step)","email":"p\#(Int.random(in: 0..<30, using: &random))@x.example","company":"C\#(Int.random(in: 0..<4, using: &random))"}"#
                    )
                    #expect([.created, .conflict].contains(reply.status), "\(reply.body)")
                    if reply.status == .created {
                        let id = try #require(try reply.object()["id"] as? String)
                        leads.append(id)
                        status[id] = "new"
                    }
                case 2 where !leads.isEmpty:
                    let lead = leads.randomElement(using: &random)!
                    let next =
                        Int.random(in: 0..<10, using: &random) < 8
                        ? forward[status[lead] ?? "new"]! : statuses.randomElement(using: &random)!
                    let reply = try await h.call(.patch, "/api/v1/crm/leads/\(lead)", json: #"{"status":"\#(next)"}"#)
                    // 409: a converted lead stays as it was.
                    #expect([.ok, .unprocessableContent, .conflict].contains(reply.status), "\(reply.body)")
                    if reply.status == .ok { status[lead] = try reply.object()["status"] as? String }
                case 3 where !leads.isEmpty:
                    let qualified = leads.filter { status[$0] == "qualified" }
                    let lead =
                        (Int.random(in: 0..<10, using: &random) < 8 ? qualified.randomElement(using: &random) : nil)
                        ?? leads.randomElement(using: &random)!
                    let withDeal = Bool.random(using: &random)
                    let deal = withDeal ? #"{"value":{"amount_minor":\#(Int.random(in: 0..<10_000, using: &random)),"currency":"EUR"}}"# : "null"
                    let reply = try await h.call(.post, "/api/v1/crm/leads/\(lead)/convert", json: #"{"deal":\#(deal)}"#)
                    #expect([.ok, .conflict, .unprocessableContent].contains(reply.status), "\(reply.body)")
                    if reply.status == .ok {
                        converted += 1
                        if let id = (try reply.object()["deal"] as? [String: Any])?["id"] as? String { deals.append(id) }
                    }
                case 4:
                    let reply = try await h.call(
                        .post, "/api/v1/crm/deals",
                        json: #"{"name":"D\#(step)","value":{"amount_minor":\#(Int.random(in: 0..<100_000, using: &random)),"currency":"\#(currencies.randomElement(using: &random)!)"},"stage_id":"\#(stageIDs.randomElement(using: &random)!)","close_reason":"r"}"#
                    )
                    #expect(reply.status == .created, "\(reply.body)")
                    deals.append(try #require(try reply.object()["id"] as? String))
                case 5 where !deals.isEmpty:
                    let deal = deals.randomElement(using: &random)!
                    let reply = try await h.call(
                        .patch, "/api/v1/crm/deals/\(deal)",
                        json: #"{"stage_id":"\#(stageIDs.randomElement(using: &random)!)","close_reason":"why \#(step)"}"#)
                    #expect(reply.status == .ok, "\(reply.body)")
                case 6 where !deals.isEmpty:
                    let deal = deals.randomElement(using: &random)!
                    let reply = try await h.call(
                        .patch, "/api/v1/crm/deals/\(deal)",
                        json: #"{"value":{"amount_minor":\#(Int.random(in: 0..<100_000, using: &random)),"currency":"\#(currencies.randomElement(using: &random)!)"}}"#
                    )
                    #expect(reply.status == .ok, "\(reply.body)")
                default:
                    continue
                }
            }
            // The seeds are chosen so that each sequence converts leads and moves deals (else it proves little).
            #expect(converted > 0 && deals.count > 3)
            try await Self.checkInvariants(h, pipeline: pipeline.id, converted: converted)
        }
    }

    static func all(_ h: CRMHarness, _ path: String) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let reply = try await h.call(.get, "\(path)\(separator)limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""))
            items += try reply.object()["data"] as? [[String: Any]] ?? []
            cursor = try reply.object()["next_cursor"] as? String
        } while cursor != nil
        return items
    }

    static func checkInvariants(_ h: CRMHarness, pipeline: String, converted: Int) async throws {
        let leads = try await all(h, "/api/v1/crm/leads")
        let deals = try await all(h, "/api/v1/crm/deals")
        // A lead converts once: one conversion event per converted lead, at most one deal per lead, and the lead
        // names its deal.
        let convertedLeads = leads.filter { !($0["converted_at"] is NSNull) }
        #expect(convertedLeads.count == converted)
        #expect(try await h.eventTypes().filter { $0 == "crm.lead.converted" }.count == converted)
        let dealsByLead = Dictionary(grouping: deals.compactMap { $0["lead_id"] as? String }, by: { $0 })
        #expect(dealsByLead.values.allSatisfy { $0.count == 1 })
        for lead in convertedLeads {
            if let deal = lead["deal_id"] as? String {
                #expect(deals.contains { $0["id"] as? String == deal && $0["lead_id"] as? String == lead["id"] as? String })
            }
        }
        // Stage history is complete: it starts from nothing, each move starts where the last ended, and it ends in
        // the deal's stage.
        for deal in deals {
            let id = try #require(deal["id"] as? String)
            let moves = try await h.call(.get, "/api/v1/crm/deals/\(id)/history").object()["data"] as? [[String: Any]] ?? []
            #expect(!moves.isEmpty)
            #expect(moves.first?["from_stage_id"] is NSNull)
            for (earlier, later) in zip(moves, moves.dropFirst()) {
                #expect(later["from_stage_id"] as? String == earlier["to_stage_id"] as? String)
            }
            #expect(moves.last?["to_stage_id"] as? String == deal["stage_id"] as? String)
        }
        // Board totals equal the sum of the deals in each stage, per currency.
        let board = try await h.call(.get, "/api/v1/crm/pipelines/\(pipeline)/board")
        for column in try board.object()["stages"] as? [[String: Any]] ?? [] {
            let stage = try #require((column["stage"] as? [String: Any])?["id"] as? String)
            let inStage = deals.filter { $0["stage_id"] as? String == stage }
            #expect(column["count"] as? Int == inStage.count)
            var sums: [String: Int] = [:]
            for deal in inStage {
                let value = try #require(deal["value"] as? [String: Any])
                sums[value["currency"] as? String ?? "", default: 0] += value["amount_minor"] as? Int ?? 0
            }
            var totals: [String: Int] = [:]
            for money in column["total"] as? [[String: Any]] ?? [] {
                totals[money["currency"] as? String ?? ""] = money["amount_minor"] as? Int
            }
            #expect(totals == sums, "stage \(stage)")
        }
    }
}
