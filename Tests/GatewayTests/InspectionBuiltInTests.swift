import Foundation
import Gateway
import HTTPTypes
import Kernel
import Testing

/// Every built-in rule against its attack samples, and the whole rule set against benign business requests.
@Suite struct InspectionBuiltInTests {
    let engine: InspectionEngine

    init() throws {
        engine = try InspectionEngine.builtIn()
    }

    /// The rule on its own, so an attack is credited to the rule it was written for.
    func isolated(_ ruleID: String) throws -> InspectionEngine {
        try InspectionEngine(rules: InspectionRule.builtIn.filter { $0.id == ruleID })
    }

    @Test func everyBuiltInRuleHasTwoAttacksAndTwoBenignSamples() {
        for rule in InspectionRule.builtIn {
            #expect(InspectionSamples.attacks.count(where: { $0.ruleID == rule.id }) >= 2, "\(rule.id) attacks")
            #expect(InspectionSamples.benign.count(where: { $0.ruleID == rule.id }) >= 2, "\(rule.id) benign samples")
        }
    }

    @Test func builtInRuleIDsAreUniqueAndCompile() throws {
        let ids = InspectionRule.builtIn.map(\.id)
        #expect(Set(ids).count == ids.count)
        _ = try InspectionEngine(rules: InspectionRule.builtIn)
    }

    @Test(arguments: InspectionSamples.attacks)
    func ruleBlocksItsAttack(_ sample: InspectionSample) throws {
        let verdict = try isolated(sample.ruleID).inspect(sample.input)
        #expect(verdict.blocks)
        #expect(verdict.ruleIDs == [sample.ruleID])
    }

    @Test(arguments: InspectionSamples.attacks)
    func fullRuleSetBlocksEveryAttack(_ sample: InspectionSample) {
        #expect(engine.inspect(sample.input).blocks)
    }

    @Test(arguments: InspectionSamples.benign)
    func fullRuleSetPassesBenignRequest(_ sample: InspectionSample) {
        let verdict = engine.inspect(sample.input)
        #expect(!verdict.blocks)
        #expect(verdict.matches.isEmpty, "matched \(verdict.ruleIDs)")
    }

    @Test func everyScannerNameIsRecognised() throws {
        let scanners = try isolated("scanner-user-agent")
        let names = [
            "sqlmap", "nikto", "nmap", "masscan", "zgrab", "nuclei", "dirbuster", "gobuster", "wpscan", "acunetix",
            "nessus", "openvas", "w3af",
        ]
        for name in names {
            let input = InspectionInput(
                path: "/", headers: [.userAgent: "Mozilla/5.0 (compatible; \(name.uppercased())/1.0)"])
            #expect(scanners.inspect(input).blocks, "\(name)")
        }
    }

    @Test func typicalBusinessRequestPasses() {
        let body: JSONValue = [
            "name": "Siobhan O'Brien",
            "email": "siobhan.obrien@example.ie",
            "company": "Drop Table Furniture & Co.",
            "website": "https://example.ie/about?ref=crm&lang=en",
            "notes": .string(
                """
                ## Call notes
                * Wants to **drop** the old plan & update billing; select the annual option.
                * Margin: a < b and c > d, 20% off if they sign by 2025-07-01.
                * See [contract](https://example.ie/docs/contract.pdf) -- ask Tom's team.
                """),
            "tags": ["vip", "q3-renewal", "it's complicated"],
            "score": .integer(87),
        ]
        let input = InspectionInput(
            method: .post, path: "/api/v1/crm/leads", query: "include=owner&sort=-created_at",
            headers: [.userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)", .accept: "*/*"], body: body)
        #expect(engine.inspect(input).matches.isEmpty)
    }

    @Test func largeBenignJSONBodyPasses() {
        let leads: [JSONValue] = (0..<2_000).map { index in
            [
                "id": .string("0190f5a4-7b1c-7def-8abc-\(String(format: "%012d", index))"),
                "name": .string("Customer \(index) O'Neill"),
                "email": .string("customer\(index)@example.com"),
                "notes": "Asked about the union rate; will select a plan after the board meeting (5 < 7).",
                "address": ["street": "1 Main St.", "city": "Dublin", "lines": ["Unit 4", "Floor 2"]],
                "amount": ["amount_minor": .integer(Int64(index) * 100), "currency": "EUR"],
            ]
        }
        let input = InspectionInput(method: .post, path: "/api/v1/crm/leads/import", body: ["data": .array(leads)])
        #expect(engine.inspect(input).matches.isEmpty)
    }
}
