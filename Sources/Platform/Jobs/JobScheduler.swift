import Foundation
import Kernel
import Logging
import SQLKit
import ServiceLifecycle

/// A job a module wants enqueued on a cron schedule (installation-wide, no tenant; the handler decides what it
/// covers).
package struct JobSchedule: Sendable {
    package let name: String
    package let cron: CronSchedule
    package let job: String
    package let payload: JSONDocument
    package let priority: Int

    /// `name` identifies the schedule across processes; `job` is the handler's name.
    package init(
        name: String, cron: CronSchedule, job: String, payload: JSONDocument = JSONDocument(unchecked: "{}"),
        priority: Int = 4
    ) {
        self.name = name
        self.cron = cron
        self.job = job
        self.payload = payload
        self.priority = priority
    }
}

/// Enqueues scheduled jobs when they fall due. Every process runs one; for each fire time exactly one process
/// wins (a conditional update of `job_schedules.next_run_at` in the transaction that enqueues the job), so a
/// schedule fires once however many processes run. A fire time missed while no process ran is made up once, not
/// once per missed time.
package struct JobScheduler: Sendable {
    package static let migration = Migration(module: "platform", number: 5, name: "create_job_schedules") { dialect in
        [
            """
            CREATE TABLE job_schedules (
                name TEXT PRIMARY KEY,
                cron TEXT NOT NULL,
                job TEXT NOT NULL,
                next_run_at \(dialect.timestampType) NOT NULL,
                last_run_at \(dialect.timestampType)
            )
            """
        ]
    }

    let database: any Database
    let schedules: [JobSchedule]
    let logger: Logger
    let clock: any WallClock

    package init(
        database: any Database, schedules: [JobSchedule], logger: Logger, clock: any WallClock = SystemWallClock()
    ) {
        self.database = database
        self.schedules = schedules
        self.logger = logger
        self.clock = clock
    }

    /// Registers the schedules (a changed cron expression takes effect from now) and enqueues every due one.
    /// Returns how many jobs this call enqueued.
    @discardableResult
    package func tick() async throws -> Int {
        let now = clock.now()
        var enqueued = 0
        for schedule in schedules {
            // The fire time after now, for a new or changed schedule and after a run (a year on if it never fires).
            let next = (schedule.cron.next(after: now) ?? now.addingTimeInterval(365 * 86_400)).epochMilliseconds
            let fired = try await database.system { tx -> Bool in
                let row = try await tx.sql.raw(
                    "SELECT cron, next_run_at FROM job_schedules WHERE name = \(bind: schedule.name)"
                ).first()
                guard let row else {
                    try await tx.sql.raw(
                        """
                        INSERT INTO job_schedules (name, cron, job, next_run_at)
                        VALUES (\(bind: schedule.name), \(bind: schedule.cron.description), \(bind: schedule.job),
                                \(bind: next))
                        ON CONFLICT (name) DO NOTHING
                        """
                    ).run()
                    return false
                }
                if try row.decode(column: "cron", as: String.self) != schedule.cron.description {
                    try await tx.sql.raw(
                        """
                        UPDATE job_schedules SET cron = \(bind: schedule.cron.description), job = \(bind: schedule.job),
                            next_run_at = \(bind: next)
                        WHERE name = \(bind: schedule.name)
                        """
                    ).run()
                    return false
                }
                let due = try row.decode(column: "next_run_at", as: Int64.self)
                guard due <= now.epochMilliseconds else { return false }
                // Only the process whose update sees the old fire time enqueues.
                let won = try await tx.sql.raw(
                    """
                    UPDATE job_schedules SET next_run_at = \(bind: next), last_run_at = \(bind: now.epochMilliseconds)
                    WHERE name = \(bind: schedule.name) AND next_run_at = \(bind: due)
                    RETURNING name
                    """
                ).first()
                guard won != nil else { return false }
                var request = Jobs.Request(name: schedule.job, payload: schedule.payload)
                request.priority = schedule.priority
                request.uniqueKey = "schedule:\(schedule.name)"
                return try await Jobs.enqueue(request, in: tx, now: now) != nil
            }
            if fired { enqueued += 1 }
        }
        return enqueued
    }

    /// Every schedule with its next and last run, for `inopsio jobs schedules` and the jobs page.
    package func list() async throws -> [ScheduleRecord] {
        try await database.systemRead { tx in
            try await tx.sql.raw("SELECT * FROM job_schedules ORDER BY name").all().map { row in
                ScheduleRecord(
                    name: try row.decode(column: "name", as: String.self),
                    cron: try row.decode(column: "cron", as: String.self),
                    job: try row.decode(column: "job", as: String.self),
                    nextRunAt: Date(epochMilliseconds: try row.decode(column: "next_run_at", as: Int64.self)),
                    lastRunAt: try row.decode(column: "last_run_at", as: Int64?.self).map(Date.init(epochMilliseconds:))
                )
            }
        }
    }

    /// This process's scheduler: a tick at the start of every minute (and once at start-up).
    package var services: [any Service] { schedules.isEmpty ? [] : [SchedulerService(scheduler: self)] }
}

package struct ScheduleRecord: Sendable, Equatable, Encodable {
    package let name: String
    package let cron: String
    package let job: String
    package let nextRunAt: Date
    package let lastRunAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, cron, job
        case nextRunAt = "next_run_at"
        case lastRunAt = "last_run_at"
    }
}

struct SchedulerService: Service {
    let scheduler: JobScheduler

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await scheduler.tick()
            } catch is CancellationError {
                return
            } catch {
                scheduler.logger.warning(
                    "job schedules not checked; trying again",
                    metadata: ["error.message": "\(String(reflecting: error))"])
            }
            let seconds = scheduler.clock.now().timeIntervalSince1970.truncatingRemainder(dividingBy: 60)
            try? await Task.sleep(for: .seconds(60 - seconds + 0.05))
        }
    }
}
