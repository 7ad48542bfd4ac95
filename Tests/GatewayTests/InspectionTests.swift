import Foundation
import Gateway
import HTTPTypes
import Kernel
import Testing

/// Rule decoding, engine behaviour (log versus block, body walk, decoding of encoded attacks) and transforms.
@Suite struct InspectionTests {
    func decodeRule(_ json: String) throws -> InspectionRule {
        try JSONDecoder().decode(InspectionRule.self, from: Data(json.utf8))
    }

    @Test func literalRuleFromJSONMatchesCaseInsensitively() throws {
        let rule = try decodeRule(
            #"{"id": "no-evil", "description": "d", "targets": ["query"], "operator": "literal", "pattern": "EvilCorp"}"#
        )
        #expect(rule.matcher == .literal("EvilCorp"))
        #expect(rule.action == .block)
        let engine = try InspectionEngine(rules: [rule])
        #expect(engine.inspect(InspectionInput(path: "/", query: "q=hello+evilcorp")).blocks)
        #expect(engine.inspect(InspectionInput(path: "/", query: "q=EVILCORP")).blocks)
        #expect(!engine.inspect(InspectionInput(path: "/", query: "q=good+corp")).blocks)
    }

    @Test func prefixRuleFromJSONMatchesOnlyAtTheStart() throws {
        let rule = try decodeRule(
            #"{"id": "no-admin", "description": "d", "targets": ["path"], "operator": "prefix", "pattern": "/Admin"}"#)
        let engine = try InspectionEngine(rules: [rule])
        #expect(engine.inspect(InspectionInput(path: "/admin/users")).blocks)
        #expect(!engine.inspect(InspectionInput(path: "/api/v1/admin")).blocks)
    }

    @Test func regexRuleFromJSONUsesTransformsAndPrefilter() throws {
        let rule = try decodeRule(
            #"""
            {"id": "no-debug", "description": "d", "targets": ["header:X-Debug", "body"], "operator": "regex",
             "pattern": "^debug=(on|1)$", "prefilter": ["debug"], "transforms": ["urlDecode", "lowercase"],
             "action": "block"}
            """#)
        #expect(rule.targets == [.header("x-debug"), .body])
        let engine = try InspectionEngine(rules: [rule])
        #expect(engine.inspect(InspectionInput(path: "/", headers: [HTTPField.Name("X-Debug")!: "DEBUG%3Don"])).blocks)
        #expect(engine.inspect(InspectionInput(path: "/", body: ["flags": ["debug=1"]])).blocks)
        #expect(!engine.inspect(InspectionInput(path: "/", headers: [HTTPField.Name("X-Other")!: "debug=on"])).blocks)
        #expect(!engine.inspect(InspectionInput(path: "/", body: ["flags": ["debug=off"]])).blocks)
    }

    @Test func ruleRoundTripsThroughJSON() throws {
        let rule = try InspectionRule(
            id: "r", description: "d", targets: [.path, .header("user-agent")], matcher: .regex("a+"),
            transforms: [.htmlEntityDecode, .compactSQL], prefilter: ["a"], action: .log, methods: ["post"])
        let decoded = try JSONDecoder().decode(InspectionRule.self, from: try JSONEncoder().encode(rule))
        #expect(decoded == rule)
        #expect(decoded.methods == ["POST"])
    }

    @Test func invalidRegexIsRejectedWithTheRuleID() throws {
        let rule = try decodeRule(#"{"id": "bad", "targets": ["path"], "operator": "regex", "pattern": "(unclosed"}"#)
        #expect {
            try InspectionEngine(rules: [rule])
        } throws: { error in
            guard case .invalidRegex(let id, _) = error as? InspectionRuleError else { return false }
            return id == "bad"
        }
    }

    @Test func unknownTargetAndUnknownOperatorAreRejected() {
        #expect(throws: InspectionRuleError.invalidTarget("cookies")) {
            try decodeRule(#"{"id": "x", "targets": ["cookies"], "operator": "literal", "pattern": "a"}"#)
        }
        #expect(throws: DecodingError.self) {
            try decodeRule(#"{"id": "x", "targets": ["path"], "operator": "glob", "pattern": "a"}"#)
        }
        #expect(throws: InspectionRuleError.emptyPattern(ruleID: "x")) {
            try decodeRule(#"{"id": "x", "targets": ["path"], "operator": "literal", "pattern": ""}"#)
        }
    }

    @Test func duplicateRuleIDsAreRejected() throws {
        let rule = try InspectionRule(id: "same", description: "", targets: [.path], matcher: .literal("a"))
        #expect(throws: InspectionRuleError.duplicateID("same")) { try InspectionEngine(rules: [rule, rule]) }
    }

    @Test func logActionReportsWithoutBlocking() throws {
        let watch = try InspectionRule(
            id: "watch", description: "", targets: [.query], matcher: .literal("promo"), action: .log)
        let engine = try InspectionEngine(rules: [watch])
        let verdict = engine.inspect(InspectionInput(path: "/", query: "code=PROMO2025"))
        #expect(!verdict.blocks)
        #expect(verdict.matches == [InspectionMatch(ruleID: "watch", action: .log, location: .query("code"))])
    }

    @Test func logMatchesAreKeptAlongsideABlock() throws {
        let watch = try InspectionRule(
            id: "watch", description: "", targets: [.query], matcher: .literal("promo"), action: .log)
        let engine = try InspectionEngine.builtIn(adding: [watch])
        let verdict = engine.inspect(InspectionInput(path: "/", query: "code=promo&id=1%27%20or%201=1--"))
        #expect(verdict.blocks)
        #expect(verdict.ruleIDs.first == "watch")
        #expect(verdict.ruleIDs.count == 2)
    }

    @Test func jsonBodyIsSearchedAtEveryDepthIncludingKeys() throws {
        let engine = try InspectionEngine.builtIn()
        let deepValue: JSONValue = ["a": [["b": ["c": [.null, .integer(1), "<script>alert(1)</script>"]]]]]
        #expect(
            engine.inspect(InspectionInput(method: .post, path: "/", body: deepValue)).ruleIDs == ["xss-script-tag"])
        let hostileKey: JSONValue = ["items": [["name": "ok", "<img src=x onerror=alert(1)>": .bool(true)]]]
        #expect(engine.inspect(InspectionInput(method: .post, path: "/", body: hostileKey)).blocks)
    }

    @Test func veryDeepBodyDoesNotOverflowTheStack() throws {
        var value: JSONValue = "'; drop table users;--"
        for _ in 0..<1_000 { value = .array([value]) }
        #expect(try InspectionEngine.builtIn().inspect(InspectionInput(method: .post, path: "/", body: value)).blocks)
    }

    @Test func doubleURLEncodedAttacksAreDecoded() throws {
        let engine = try InspectionEngine.builtIn()
        // %2527 -> %27 -> ' ; %253C -> %3C -> <
        #expect(engine.inspect(InspectionInput(path: "/", query: "id=1%2527%2520or%2520%25271%2527%253D%25271")).blocks)
        #expect(engine.inspect(InspectionInput(path: "/", query: "q=%253Ciframe%2520src%253Dx%253E")).blocks)
        #expect(engine.inspect(InspectionInput(path: "/files/%252e%252e%252f%252e%252e%252fetc")).blocks)
    }

    @Test func queryParameterNamesAreInspected() throws {
        let verdict = try InspectionEngine.builtIn().inspect(InspectionInput(path: "/", query: "%3Cscript%3E=1"))
        #expect(
            verdict.matches == [InspectionMatch(ruleID: "xss-script-tag", action: .block, location: .query("<script>"))]
        )
    }

    @Test func methodsLimitWhereARuleApplies() throws {
        let rule = try InspectionRule(
            id: "no-bulk", description: "", targets: [.path], matcher: .literal("/bulk"), methods: ["delete"])
        let engine = try InspectionEngine(rules: [rule])
        #expect(engine.inspect(InspectionInput(method: .delete, path: "/api/v1/crm/bulk")).blocks)
        #expect(!engine.inspect(InspectionInput(method: .get, path: "/api/v1/crm/bulk")).blocks)
    }

    @Test func allHeadersTargetSeesEveryHeader() throws {
        let rule = try InspectionRule(id: "h", description: "", targets: [.headers], matcher: .literal("${jndi:"))
        let engine = try InspectionEngine(rules: [rule])
        let input = InspectionInput(
            path: "/", headers: [.accept: "*/*", HTTPField.Name("X-Api-Version")!: "${JNDI:ldap://x}"])
        #expect(
            engine.inspect(input).matches == [
                InspectionMatch(ruleID: "h", action: .block, location: .header("x-api-version"))
            ])
    }

    @Test func inputFromRequestHeadSplitsPathAndQuery() {
        let head = HTTPRequest(method: .get, scheme: "https", authority: "x", path: "/api/v1/crm?q=a%20b")
        let input = InspectionInput(head: head)
        #expect(input.path == "/api/v1/crm")
        #expect(input.query == "q=a%20b")
    }

    @Test func transformsNormaliseObfuscation() {
        #expect(InspectionTransform.urlDecode.apply(to: "%25253C") == "%3C")
        #expect(InspectionTransform.urlDecode.apply(to: "100% sure") == "100% sure")
        #expect(InspectionTransform.htmlEntityDecode.apply(to: "&lt;a&#62;&#x3C;&colon;&unknown;") == "<a><:&unknown;")
        #expect(
            InspectionTransform.compactSQL.apply(to: "UNION/**/SELECT\t\n 1/*!50000FROM*/x") == "UNION SELECT 1 FROM x")
        #expect(InspectionTransform.lowercase.apply(to: "ÀB c") == "àb c")
    }
}
