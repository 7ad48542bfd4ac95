import Foundation
import HTTPTypes

/// A rule prepared for the hot path: literals as lower-case bytes, the regex compiled once, targets as flags.
/// Regexes are ICU's `NSRegularExpression`: it is `Sendable` (Swift's `Regex` is not) and fast, with the
/// `\b`, look-around and back-reference behaviour rule authors know from other engines.
struct CompiledInspectionRule: Sendable {
    /// The compiled form of the rule's matcher.
    enum Matcher: Sendable {
        case literal([UInt8])
        case prefix([UInt8])
        case regex(NSRegularExpression)
    }

    let id: String
    let action: InspectionAction
    let matcher: Matcher
    let prefilter: [[UInt8]]
    let methods: [String]
    let inspectsAllHeaders: Bool
    let headerNames: [String]

    init(_ rule: InspectionRule) throws(InspectionRuleError) {
        id = rule.id
        action = rule.action
        prefilter = rule.prefilter.map(ASCIISearch.lowercasedBytes)
        methods = rule.methods
        inspectsAllHeaders = rule.targets.contains(.headers)
        headerNames = rule.targets.compactMap { target in
            if case .header(let name) = target { name.lowercased() } else { nil }
        }
        switch rule.matcher {
        case .literal(let pattern): matcher = .literal(ASCIISearch.lowercasedBytes(pattern))
        case .prefix(let pattern): matcher = .prefix(ASCIISearch.lowercasedBytes(pattern))
        case .regex(let pattern):
            do {
                matcher = .regex(try NSRegularExpression(pattern: pattern))
            } catch {
                throw .invalidRegex(ruleID: rule.id, message: String(describing: error))
            }
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

    /// Runs the prefilter, then the matcher, on an already transformed value.
    func matches(_ value: String) -> Bool {
        if !prefilter.isEmpty && !prefilter.contains(where: { ASCIISearch.contains(value, $0) }) { return false }
        switch matcher {
        case .literal(let needle): return ASCIISearch.contains(value, needle)
        case .prefix(let needle): return ASCIISearch.hasPrefix(value, needle)
        case .regex(let regex):
            let whole = NSRange(location: 0, length: value.utf16.count)
            return regex.rangeOfFirstMatch(in: value, range: whole).location != NSNotFound
        }
    }
}

/// ASCII-case-insensitive substring search over UTF-8, without allocating.
enum ASCIISearch {
    /// The needle form the search expects: UTF-8 with ASCII letters lower-cased.
    static func lowercasedBytes(_ text: String) -> [UInt8] {
        text.utf8.map(lower)
    }

    /// Whether `haystack` contains `needle` (already lower-cased), ignoring ASCII case.
    static func contains(_ haystack: String, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            var start = 0
            let last = bytes.count - needle.count
            while start <= last {
                if lower(bytes[start]) == first {
                    var offset = 1
                    while offset < needle.count && lower(bytes[start + offset]) == needle[offset] { offset += 1 }
                    if offset == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }

    /// Whether `haystack` starts with `needle` (already lower-cased), ignoring ASCII case.
    static func hasPrefix(_ haystack: String, _ needle: [UInt8]) -> Bool {
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            for offset in 0..<needle.count where lower(bytes[offset]) != needle[offset] { return false }
            return true
        }
    }

    @inline(__always)
    private static func lower(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}
