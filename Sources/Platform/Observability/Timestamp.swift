#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 UTC timestamps with milliseconds for log lines, built without Foundation formatters (hot path).
enum LogTimestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(spec.tv_nsec) / 1_000_000
        var text = ""
        text.reserveCapacity(24)
        append(&text, Int(parts.tm_year) + 1900, width: 4)
        text += "-"
        append(&text, Int(parts.tm_mon) + 1, width: 2)
        text += "-"
        append(&text, Int(parts.tm_mday), width: 2)
        text += "T"
        append(&text, Int(parts.tm_hour), width: 2)
        text += ":"
        append(&text, Int(parts.tm_min), width: 2)
        text += ":"
        append(&text, Int(parts.tm_sec), width: 2)
        text += "."
        append(&text, millis, width: 3)
        text += "Z"
        return text
    }

    private static func append(_ text: inout String, _ value: Int, width: Int) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }
}
