import Foundation

/// RFC 3339 UTC timestamps with millisecond precision, the one text form of time in the API.
package enum RFC3339 {
    /// `2026-12-04T23:19:23.123Z`. Written by hand: Foundation's `ISO8601FormatStyle` gives the same text (tests
    /// compare the two) at many times the cost, and pages of records write two or three per record.
    package static func string(from date: Date) -> String {
        // To the nearest tenth of a millisecond first, so that a stored millisecond (1.123 s held as 1.12299999...)
        // does not fall to the one before (Foundation's style writes `.122` there); then truncated to milliseconds.
        // A tenth is above the `Double`'s resolution up to year 9999 (about 0.03 ms there).
        let tenths = (date.timeIntervalSince1970 * 10_000).rounded()
        guard tenths.magnitude < 1e16 else { return formatted(date) }
        let milliseconds = Int64(tenths).floorDivided(by: 10)
        let seconds = milliseconds.floorDivided(by: 1000)
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(daysSinceEpoch: days)
        guard (0...9999).contains(year) else { return formatted(date) }
        var text = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                text[index] = 0x30 + UInt8(value % 10)
                value /= 10
            }
        }
        put(Int(year), at: 0, digits: 4)
        text[4] = 0x2D
        put(month, at: 5, digits: 2)
        text[7] = 0x2D
        put(day, at: 8, digits: 2)
        text[10] = 0x54
        put(secondOfDay / 3600, at: 11, digits: 2)
        text[13] = 0x3A
        put(secondOfDay / 60 % 60, at: 14, digits: 2)
        text[16] = 0x3A
        put(secondOfDay % 60, at: 17, digits: 2)
        text[19] = 0x2E
        put(Int(milliseconds - seconds * 1000), at: 20, digits: 3)
        text[23] = 0x5A
        return String(decoding: text, as: UTF8.self)
    }

    package static func date(from text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// Foundation's form, for years outside 0...9999.
    static func formatted(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(daysSinceEpoch days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// Division rounding towards minus infinity.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
