import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`, UTC) with `*`, lists (`1,15`),
/// ranges (`1-5`), steps (`*/10`, `0-30/5`) and the shorthands `@hourly`, `@daily`, `@weekly`, `@monthly`,
/// `@yearly`. As in Vixie cron, when both day fields are restricted a day matching either one fires. Day of week
/// 0 and 7 are Sunday.
package struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool
    package let description: String

    package struct ParseError: Error, Equatable, CustomStringConvertible {
        package let description: String
    }

    package init(_ text: String) throws(ParseError) {
        let shorthands = [
            "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = shorthands[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { throw ParseError(description: "a cron schedule has 5 fields: \(text)") }
        minutes = try Self.field(fields[0], 0...59, name: "minute")
        hours = try Self.field(fields[1], 0...23, name: "hour")
        days = try Self.field(fields[2], 1...31, name: "day of month")
        months = try Self.field(fields[3], 1...12, name: "month")
        weekdays = Set(try Self.field(fields[4], 0...7, name: "day of week").map { $0 == 7 ? 0 : $0 })
        // As Vixie cron: a day field starting with `*` (also `*/2`) does not restrict, so both must then match.
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        description = trimmed
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, name: String) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(description: "bad \(name): \(text)") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else {
                    throw ParseError(description: "bad step in \(text)")
                }
                step = parsed
            }
            var low = range.lowerBound
            var high = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count), let first = Int(bounds[0]) else {
                    throw ParseError(description: "bad \(name): \(text)")
                }
                low = first
                high = bounds.count == 2 ? (Int(bounds[1]) ?? -1) : (pieces.count == 2 ? range.upperBound : first)
            }
            guard range.contains(low), range.contains(high), low <= high else {
                throw ParseError(description: "\(name) out of range \(range.lowerBound)-\(range.upperBound): \(text)")
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    func matchesDay(_ components: DateComponents) -> Bool {
        let day = days.contains(components.day!)
        let weekday = weekdays.contains(components.weekday! - 1)
        // Vixie cron: either day field starting with `*` makes it "both must match" (a plain `*` matches every
        // day anyway); two restricted fields fire on either.
        return daysRestricted && weekdaysRestricted ? day || weekday : day && weekday
    }

    /// The first minute after `date` the schedule fires at; nil if none within five years (`0 0 30 2 *`).
    package func next(after date: Date) -> Date? {
        let calendar = Self.calendar
        var start = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        start.second = 0
        guard var candidate = calendar.date(from: start).map({ $0.addingTimeInterval(60) }) else { return nil }
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while candidate < limit {
            let parts = calendar.dateComponents([.month, .day, .weekday, .hour, .minute], from: candidate)
            guard months.contains(parts.month!) else {
                // The first minute of the next month.
                var next = calendar.dateComponents([.year, .month], from: candidate)
                next.month! += 1
                next.day = 1
                candidate = calendar.date(from: next)!
                continue
            }
            guard matchesDay(parts) else {
                candidate = calendar.startOfDay(for: candidate).addingTimeInterval(86_400)
                continue
            }
            guard hours.contains(parts.hour!) else {
                var next = calendar.dateComponents([.year, .month, .day, .hour], from: candidate)
                next.hour! += 1
                candidate = calendar.date(from: next)!
                continue
            }
            if minutes.contains(parts.minute!) { return candidate }
            candidate = candidate.addingTimeInterval(60)
        }
        return nil
    }
}
