import Foundation
import HTTPTypes

/// A rule prepared for the hot path: literals as lower-case bytes, the regex compiled once, targets as flags.
/// Regexes are ICU's `NSRegularExpression`: it is `Sendable` (Swift's `Regex` is not) and fast, with the
/// `\b`, look-around and back-reference behaviour rule authors know from other engines.
final class CompiledInspectionRule: Sendable {
    /// The compiled form of the rule's matcher.
    enum Matcher: Sendable {
        case literal(Needle)
        case prefix(Needle)
        case regex(NSRegularExpression)
    }

    let id: String
    let action: InspectionAction
    let matcher: Matcher
    let prefilter: [Needle]
    /// The prefilter needles' byte sets on their own: a trivial type, so the common rejection costs no ARC.
    let prefilterByteSets: [ByteSet]
    let methods: [String]
    let inspectsAllHeaders: Bool
    let headerNames: [String]

    init(_ rule: InspectionRule) throws(InspectionRuleError) {
        id = rule.id
        action = rule.action
        prefilter = rule.prefilter.map(Needle.init)
        prefilterByteSets = prefilter.map(\.byteSet)
        methods = rule.methods
        inspectsAllHeaders = rule.targets.contains(.headers)
        headerNames = rule.targets.compactMap { target in
            if case .header(let name) = target { name.lowercased() } else { nil }
        }
        switch rule.matcher {
        case .literal(let pattern): matcher = .literal(Needle(pattern))
        case .prefix(let pattern): matcher = .prefix(Needle(pattern))
        case .regex(let pattern):
            do {
                matcher = .regex(try NSRegularExpression(pattern: pattern))
            } catch {
                throw .invalidRegex(ruleID: rule.id, message: String(describing: error))
            }
        }
    }

    /// Byte sets of which a value must include at least one for the rule to possibly match: the prefilter's,
    /// else the literal's, else one empty set (always included).
    var gateByteSets: [ByteSet] {
        if !prefilterByteSets.isEmpty { return prefilterByteSets }
        switch matcher {
        case .literal(let needle), .prefix(let needle): return [needle.byteSet]
        case .regex: return [ByteSet([])]
        }
    }

    /// Whether the rule runs for requests with this method.
    func applies(to method: HTTPRequest.Method) -> Bool {
        methods.isEmpty || methods.contains(method.rawValue)
    }

    /// Whether the rule looks at the header with this (lower-case) name.
    func inspects(headerNamed name: String) -> Bool {
        inspectsAllHeaders || headerNames.contains(name)
    }

    private func prefilterPasses(_ value: String, bytes: ByteSet) -> Bool {
        for index in prefilterByteSets.indices where bytes.isSuperset(of: prefilterByteSets[index]) {
            if ASCIISearch.contains(value, prefilter[index].bytes) { return true }
        }
        return false
    }

    /// Runs the prefilter, then the matcher, on an already transformed value and the set of its bytes.
    func matches(_ value: String, bytes: ByteSet) -> Bool {
        if !prefilter.isEmpty && !prefilterPasses(value, bytes: bytes) { return false }
        switch matcher {
        case .literal(let needle): return needle.occurs(in: value, bytes: bytes)
        case .prefix(let needle):
            return bytes.isSuperset(of: needle.byteSet) && ASCIISearch.hasPrefix(value, needle.bytes)
        case .regex(let regex):
            let whole = NSRange(location: 0, length: value.utf16.count)
            return regex.rangeOfFirstMatch(in: value, range: whole).location != NSNotFound
        }
    }
}
