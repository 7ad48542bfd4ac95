import HTTPTypes
import Kernel

/// Checks requests against a fixed set of inspection rules (a small web application firewall).
///
/// Built once (rules validated, regexes compiled) and shared; `inspect` is pure and allocation-light. Rules are
/// grouped per target by their transform list, so each value is normalised once per distinct list, and every
/// rule is screened by the bytes its literals need (see ``ByteSet``) and checks its literal prefilter before
/// running a regex. Inspection stops at the first blocking match.
package struct InspectionEngine: Sendable {
    /// Rules sharing one transform list, so a value is transformed once for all of them.
    final class RuleGroup: Sendable {
        /// A necessary condition for one rule: the value must hold all these bytes. A rule has one gate per
        /// prefilter literal (or its literal pattern, or an empty, always-open gate), in rule order. Gates are a
        /// trivial type, so screening a benign value touches no reference counts.
        struct Gate: Sendable {
            let byteSet: ByteSet
            let ruleIndex: Int
        }

        let transforms: [InspectionTransform]
        let rules: [CompiledInspectionRule]
        let gates: [Gate]
        let inspectsAllHeaders: Bool
        let headerNames: [String]

        init(transforms: [InspectionTransform], rules: [CompiledInspectionRule]) {
            self.transforms = transforms
            self.rules = rules
            gates = rules.enumerated().flatMap { index, rule in
                rule.gateByteSets.map { Gate(byteSet: $0, ruleIndex: index) }
            }
            inspectsAllHeaders = rules.contains { $0.inspectsAllHeaders }
            headerNames = rules.flatMap(\.headerNames)
        }

        /// The value after the group's transforms, with the set of its bytes for the gates.
        func transformed(_ value: String) -> (text: String, bytes: ByteSet) {
            let text = transforms.reduce(value) { $1.apply(to: $0) }
            return (text, ByteSet(of: text))
        }

        /// Whether some rule of the group looks at the header with this (lower-case) name.
        func inspects(headerNamed name: String) -> Bool {
            inspectsAllHeaders || headerNames.contains(name)
        }
    }

    let pathGroups: [RuleGroup]
    let queryGroups: [RuleGroup]
    let headerGroups: [RuleGroup]
    let bodyGroups: [RuleGroup]

    /// Validates and compiles the rules; throws for a duplicate id or an invalid regex.
    package init(rules: [InspectionRule]) throws(InspectionRuleError) {
        var seen = Set<String>()
        var compiled: [(InspectionRule, CompiledInspectionRule)] = []
        for rule in rules {
            guard seen.insert(rule.id).inserted else { throw .duplicateID(rule.id) }
            compiled.append((rule, try CompiledInspectionRule(rule)))
        }
        func groups(where inspects: (InspectionTarget) -> Bool) -> [RuleGroup] {
            var result: [RuleGroup] = []
            for (rule, compiledRule) in compiled where rule.targets.contains(where: inspects) {
                if let index = result.firstIndex(where: { $0.transforms == rule.transforms }) {
                    result[index] = RuleGroup(transforms: rule.transforms, rules: result[index].rules + [compiledRule])
                } else {
                    result.append(RuleGroup(transforms: rule.transforms, rules: [compiledRule]))
                }
            }
            return result
        }
        pathGroups = groups { $0 == .path }
        queryGroups = groups { $0 == .query }
        headerGroups = groups { if case .header = $0 { true } else { $0 == .headers } }
        bodyGroups = groups { $0 == .body }
    }

    /// The built-in rules plus a route's custom ones.
    package static func builtIn(adding custom: [InspectionRule] = []) throws(InspectionRuleError) -> InspectionEngine {
        try InspectionEngine(rules: InspectionRule.builtIn + custom)
    }

    /// Inspects one request. Cheap targets (headers, path, query) go before the body.
    package func inspect(_ input: InspectionInput) -> InspectionVerdict {
        var scan = Scan(method: input.method)
        if !headerGroups.isEmpty {
            for field in input.headers {
                let name = field.name.canonicalName
                if scan.check(field.value, at: .header(name), groups: headerGroups, headerName: name) {
                    return scan.verdict
                }
            }
        }
        if !pathGroups.isEmpty, scan.check(input.path, at: .path, groups: pathGroups) { return scan.verdict }
        if !queryGroups.isEmpty, let query = input.query, !query.isEmpty {
            for pair in query.utf8.split(separator: UInt8(ascii: "&")) {
                let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                let name = TextNormalization.percentDecoded(String(Substring(parts[0])), plusAsSpace: true)
                if scan.check(name, at: .query(name), groups: queryGroups) { return scan.verdict }
                if parts.count > 1 {
                    let value = TextNormalization.percentDecoded(String(Substring(parts[1])), plusAsSpace: true)
                    if scan.check(value, at: .query(name), groups: queryGroups) { return scan.verdict }
                }
            }
        }
        if !bodyGroups.isEmpty, let body = input.body {
            // An explicit stack, not recursion: a deeply nested body cannot exhaust the thread's stack.
            var pending: [JSONValue] = [body]
            while let value = pending.popLast() {
                switch value {
                case .string(let text):
                    if scan.check(text, at: .body, groups: bodyGroups) { return scan.verdict }
                case .array(let elements):
                    pending.append(contentsOf: elements)
                case .object(let members):
                    for (key, member) in members {
                        if scan.check(key, at: .body, groups: bodyGroups) { return scan.verdict }
                        pending.append(member)
                    }
                case .null, .bool, .integer, .number:
                    break
                }
            }
        }
        return scan.verdict
    }

    /// The matches found so far in one `inspect` call.
    private struct Scan {
        let method: HTTPRequest.Method
        var matches: [InspectionMatch] = []

        var verdict: InspectionVerdict { InspectionVerdict(matches: matches) }

        /// Checks one value against the groups; returns true when a blocking rule matched.
        mutating func check(
            _ value: String,
            at location: InspectionLocation,
            groups: [RuleGroup],
            headerName: String? = nil
        ) -> Bool {
            guard !value.isEmpty else { return false }
            for group in groups {
                if let headerName, !group.inspects(headerNamed: headerName) { continue }
                let normalised = group.transformed(value)
                var lastRuleIndex = -1
                for gate in group.gates
                where gate.ruleIndex != lastRuleIndex && normalised.bytes.isSuperset(of: gate.byteSet) {
                    lastRuleIndex = gate.ruleIndex
                    let rule = group.rules[gate.ruleIndex]
                    guard rule.applies(to: method) else { continue }
                    if let headerName, !rule.inspects(headerNamed: headerName) { continue }
                    if !matches.isEmpty && matches.contains(where: { $0.ruleID == rule.id }) { continue }
                    guard rule.matches(normalised.text, bytes: normalised.bytes) else { continue }
                    matches.append(InspectionMatch(ruleID: rule.id, action: rule.action, location: location))
                    if rule.action == .block { return true }
                }
            }
            return false
        }
    }
}
