import Foundation
import Kernel
import SQLKit
import TestSupport
import Testing

@testable import Platform

@Suite struct CronScheduleTests {
    static func date(_ text: String) -> Date { RFC3339.date(from: text)! }
    static func next(_ cron: String, after text: String) throws -> Date? {
        try CronSchedule(cron).next(after: date(text))
    }

    @Test func nextFireTimes() throws {
        #expect(try Self.next("*/15 * * * *", after: "2026-11-25T10:07:30Z") == Self.date("2026-11-25T10:15:00Z"))
        #expect(try Self.next("*/15 * * * *", after: "2026-11-25T10:15:00Z") == Self.date("2026-11-25T10:30:00Z"))
        // 9:00 on weekdays: 2026-11-28 is a Saturday, so Friday's is followed by Monday's.
        #expect(try Self.next("0 9 * * 1-5", after: "2026-11-27T09:00:00Z") == Self.date("2026-11-30T09:00:00Z"))
        #expect(try Self.next("0 0 1,15 * *", after: "2026-11-25T00:00:00Z") == Self.date("2026-12-01T00:00:00Z"))
        #expect(try Self.next("@monthly", after: "2026-12-31T23:59:00Z") == Self.date("2027-01-01T00:00:00Z"))
        #expect(try Self.next("@hourly", after: "2026-11-25T10:00:00Z") == Self.date("2026-11-25T11:00:00Z"))
        // Both day fields restricted: either matches (the 1st, or any Sunday).
        #expect(try Self.next("0 12 1 * 0", after: "2026-11-25T00:00:00Z") == Self.date("2026-11-29T12:00:00Z"))
        // `*/2` does not restrict: both fields must match (odd days that are Mondays).
        #expect(try Self.next("0 9 */2 * 1", after: "2026-11-25T00:00:00Z") == Self.date("2026-12-07T09:00:00Z"))
        // Sunday as 7; February 29th only in leap years.
        #expect(try Self.next("30 6 * * 7", after: "2026-11-25T00:00:00Z") == Self.date("2026-11-29T06:30:00Z"))
        #expect(try Self.next("0 0 29 2 *", after: "2026-01-01T00:00:00Z") == Self.date("2028-02-29T00:00:00Z"))
        #expect(try Self.next("0 0 30 2 *", after: "2026-01-01T00:00:00Z") == nil)
    }

    @Test func invalidSchedulesAreRefused() {
        for text in [
            "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
            "5-1 * * * *", "a * * * *", "1,,2 * * * *",
        ] {
            #expect(throws: CronSchedule.ParseError.self, "\(text)") { try CronSchedule(text) }
        }
    }
}

@Suite struct JobSchedulerTests {
    @Test(arguments: TestBackend.available)
    func aScheduleFiresOnceAcrossProcessesAndMovesOn(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let clock = ManualClock(RFC3339.date(from: "2026-11-25T10:07:00Z")!)
            let schedule = JobSchedule(name: "report", cron: try CronSchedule("*/15 * * * *"), job: "report.build")
            // Two processes' schedulers.
            let first = JobScheduler(
                database: database, schedules: [schedule], logger: TestEnvironment.logger, clock: clock)
            let second = JobScheduler(
                database: database, schedules: [schedule], logger: TestEnvironment.logger, clock: clock)
            #expect(try await first.tick() == 0)
            #expect(try await first.list().first?.nextRunAt == RFC3339.date(from: "2026-11-25T10:15:00Z"))
            clock.advance(by: 8 * 60)
            let fired = try await first.tick() + second.tick()
            #expect(fired == 1)
            let queue = JobQueue(database: database, handlers: [], logger: TestEnvironment.logger)
            let jobs = try await queue.list()
            #expect(jobs.map(\.name) == ["report.build"])
            #expect(jobs.first?.priority == 4)
            let record = try #require(try await first.list().first)
            #expect(record.nextRunAt == RFC3339.date(from: "2026-11-25T10:30:00Z"))
            #expect(record.lastRunAt == RFC3339.date(from: "2026-11-25T10:15:00Z"))
            // While its last job is still queued or running, a schedule does not pile up more.
            clock.advance(by: 15 * 60)
            #expect(try await first.tick() == 0)
            #expect(try await queue.list().count == 1)
            // That job done (here: cancelled), and all processes down for an hour: the missed fire times are made
            // up once, not four times.
            #expect(try await queue.cancel(id: try #require(jobs.first?.id)))
            clock.advance(by: 3600)
            #expect(try await second.tick() + first.tick() == 1)
            #expect(try await queue.list().count == 2)
            #expect(try await first.list().first?.nextRunAt == RFC3339.date(from: "2026-11-25T11:45:00Z"))
            // A changed expression takes effect from now.
            let hourly = JobScheduler(
                database: database,
                schedules: [JobSchedule(name: "report", cron: try CronSchedule("@hourly"), job: "report.build")],
                logger: TestEnvironment.logger, clock: clock)
            #expect(try await hourly.tick() == 0)
            #expect(try await hourly.list().first?.cron == "@hourly")
            #expect(try await hourly.list().first?.nextRunAt == RFC3339.date(from: "2026-11-25T12:00:00Z"))
        }
    }
}
