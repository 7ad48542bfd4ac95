#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Formats "now" as `2026-11-25T01:23:25.123Z`, reformatting the date and time only when the second changes.
struct LogClock {
    private var second = -1
    private var prefix: [UInt8] = []

    mutating func append(to bytes: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        if spec.tv_sec != second {
            second = spec.tv_sec
            var seconds = spec.tv_sec
            var parts = tm()
            gmtime_r(&seconds, &parts)
            prefix = []
            Self.digits(Int(parts.tm_year) + 1900, 4, into: &prefix)
            prefix.append(0x2D)
            Self.digits(Int(parts.tm_mon) + 1, 2, into: &prefix)
            prefix.append(0x2D)
            Self.digits(Int(parts.tm_mday), 2, into: &prefix)
            prefix.append(0x54)
            Self.digits(Int(parts.tm_hour), 2, into: &prefix)
            prefix.append(0x3A)
            Self.digits(Int(parts.tm_min), 2, into: &prefix)
            prefix.append(0x3A)
            Self.digits(Int(parts.tm_sec), 2, into: &prefix)
            prefix.append(0x2E)
        }
        bytes.append(contentsOf: prefix)
        Self.digits(Int(spec.tv_nsec) / 1_000_000, 3, into: &bytes)
        bytes.append(0x5A)
    }

    /// Appends `value` as exactly `width` decimal digits (zero-padded).
    static func digits(_ value: Int, _ width: Int, into bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(0x30 + (rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
