import Synchronization

/// W3C Trace Context (`traceparent: 00-<trace-id>-<parent-id>-<flags>`): taken from the request when valid, made
/// up otherwise, so every log line of a request (and every hop behind the gateway) carries one trace id.
package struct TraceContext: Sendable, Equatable {
    /// 32 lower-case hex digits, not all zero.
    package let traceID: String
    /// 16 lower-case hex digits: the span of the hop that sent the request.
    package let parentID: String
    package let flags: String
    /// The `traceparent` value (made once: it is sent upstream and back to the client).
    package let header: String

    /// Parses a `traceparent` value of version 00 (or a later version, read as 00 per the spec).
    package init?(traceparent value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
            parts[3].count == 2, parts[0] != "00" || parts.count == 4,
            parts.prefix(4).allSatisfy({ $0.allSatisfy(\.isLowercaseHexDigit) }),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        self.init(traceID: String(parts[1]), parentID: String(parts[2]), flags: String(parts[3]))
    }

    init(traceID: String, parentID: String, flags: String) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
        var header = "00-"
        header.reserveCapacity(3 + traceID.utf8.count + 1 + parentID.utf8.count + 1 + flags.utf8.count)
        header += traceID
        header += "-"
        header += parentID
        header += "-"
        header += flags
        self.header = header
    }

    /// A new trace (not sampled: nothing records spans yet), its id taken from the request id (32 hex digits,
    /// random per process plus a counter) rather than from the system's random source, which costs a system call
    /// per request.
    package static func makeNew(requestID: String) -> TraceContext {
        // Byte-wise checks: the common case (a fast-path request id) is already 32 lower-case hex digits.
        var traceID =
            requestID.utf8.count == 32 && requestID.utf8.allSatisfy(Hex.isLowercaseDigit)
            ? requestID : String(requestID.lowercased().filter(\.isLowercaseHexDigit).suffix(32))
        if traceID.utf8.count < 32 { traceID = String(repeating: "0", count: 32 - traceID.utf8.count) + traceID }
        if !traceID.utf8.contains(where: { $0 != UInt8(ascii: "0") }) { traceID = String(traceID.dropLast()) + "1" }
        return TraceContext(traceID: traceID, parentID: newSpanID(), flags: "00")
    }

    /// The same trace with this hop as the parent, for a request sent on (the gateway to an upstream).
    package func child() -> TraceContext {
        TraceContext(traceID: traceID, parentID: Self.newSpanID(), flags: flags)
    }

    private static let spanSeed = UInt64.random(in: .min ... .max)
    private static let spanCounter = Atomic<UInt64>(0)

    /// 16 hex digits, never zero: SplitMix64 of a per-process random seed plus a counter. Unique within the
    /// process and not guessable from outside it without the seed; no system call and no hashing of strings.
    static func newSpanID() -> String {
        var z = spanSeed &+ spanCounter.wrappingAdd(1, ordering: .relaxed).newValue &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Hex.sixteenDigits(z == 0 ? 1 : z)
    }
}

/// Lower-case hex digits without `String(_:radix:)` and padding (both allocate).
package enum Hex {
    /// `value` as exactly 16 lower-case hex digits, zero-padded.
    package static func sixteenDigits(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0x0F
                buffer[index] = nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "a")
            }
            return 16
        }
    }

    package static func isLowercaseDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

extension Character {
    fileprivate var isLowercaseHexDigit: Bool {
        ("0"..."9").contains(self) || ("a"..."f").contains(self)
    }
}
