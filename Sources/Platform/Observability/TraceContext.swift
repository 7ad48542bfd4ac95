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

    /// A new trace (not sampled: nothing records spans yet), its id taken from the request id (32 hex digits,
    /// random per process plus a counter) rather than from the system's random source, which costs a system call
    /// per request.
    package static func makeNew(requestID: String) -> TraceContext {
        var traceID =
            requestID.utf8.count == 32 && requestID.allSatisfy(\.isLowercaseHexDigit)
            ? requestID : String(requestID.lowercased().filter(\.isLowercaseHexDigit).suffix(32))
        if traceID.count < 32 { traceID = String(repeating: "0", count: 32 - traceID.count) + traceID }
        if !traceID.contains(where: { $0 != "0" }) { traceID = String(traceID.dropLast()) + "1" }
        return TraceContext(traceID: traceID, parentID: spanID(traceID, salt: 0), flags: "00")
    }

    /// The same trace with this hop as the parent, for a request sent on (the gateway to an upstream).
    package func child() -> TraceContext {
        TraceContext(traceID: traceID, parentID: Self.spanID(traceID + parentID, salt: 1), flags: flags)
    }

    /// 16 hex digits from the process's randomly seeded hasher: unpredictable outside the process, never zero.
    static func spanID(_ text: String, salt: Int) -> String {
        var hasher = Hasher()
        hasher.combine(text)
        hasher.combine(salt)
        let value = UInt64(bitPattern: Int64(hasher.finalize()))
        let hex = String(value == 0 ? 1 : value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    package var header: String { "00-\(traceID)-\(parentID)-\(flags)" }
}

extension Character {
    fileprivate var isLowercaseHexDigit: Bool {
        ("0"..."9").contains(self) || ("a"..."f").contains(self)
    }
}
