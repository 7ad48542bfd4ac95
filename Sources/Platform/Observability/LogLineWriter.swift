#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends the parts of one JSON log line straight into the sink's byte buffer: the hot path of the access
/// log, kept free of intermediate strings and formatters.
struct LogLineWriter {
    var bytes: [UInt8]
    var clock: LogClock

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A JSON string literal, escaping quotes, backslashes and control characters.
    mutating func quoted(_ text: String) {
        bytes.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    /// The current time as a quoted RFC 3339 UTC timestamp with milliseconds.
    mutating func timestamp() {
        bytes.append(0x22)
        clock.append(to: &bytes)
        bytes.append(0x22)
    }
}

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
