/// W3C Trace Context (`traceparent: 00-<trace-id>-<parent-id>-<flags>`): taken from the request when valid, made
/// up otherwise, so every log line of a request (and every hop behind the gateway) carries one trace id.
package struct TraceContext: Sendable, Equatable {
    /// 32 lower-case hex digits, not all zero.
    package let traceID: String
    /// 16 lower-case hex digits: the span of the hop that sent the request.
    package let parentID: String
    package let flags: String

    /// Parses a `traceparent` value of version 00 (or a later version, read as 00 per the spec).
    package init?(traceparent value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
            parts[3].count == 2, parts[0] != "00" || parts.count == 4,
            parts.prefix(4).allSatisfy({ $0.allSatisfy(\.isLowercaseHexDigit) }),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        traceID = String(parts[1])
        parentID = String(parts[2])
        flags = String(parts[3])
    }

    init(traceID: String, parentID: String, flags: String) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    /// A new trace (not sampled: nothing records spans yet).
    package static func makeNew() -> TraceContext {
        TraceContext(traceID: randomHex(bytes: 16), parentID: randomHex(bytes: 8), flags: "00")
    }

    /// The same trace with this hop as the parent, for a request sent on (the gateway to an upstream).
    package func child() -> TraceContext {
        TraceContext(traceID: traceID, parentID: Self.randomHex(bytes: 8), flags: flags)
    }

    package var header: String { "00-\(traceID)-\(parentID)-\(flags)" }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        text.reserveCapacity(bytes * 2)
        let digits = Array("0123456789abcdef")
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}

extension Character {
    fileprivate var isLowercaseHexDigit: Bool {
        ("0"..."9").contains(self) || ("a"..."f").contains(self)
    }
}
