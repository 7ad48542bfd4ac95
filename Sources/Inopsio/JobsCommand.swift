import ArgumentParser
import Foundation
import Kernel
import Logging
import Platform

/// `inopsio jobs list|retry|cancel`: background jobs from the command line.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List, retry and cancel background jobs; list cron schedules.",
        subcommands: [List.self, Retry.self, Cancel.self, Schedules.self])

    struct Schedules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the cron schedules the servers have registered, as JSON lines.")
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            try await withMigratedDatabase(options) { database in
                let scheduler = JobScheduler(database: database, schedules: [], logger: Logger(label: "jobs"))
                for schedule in try await scheduler.list() { print(try jsonText(schedule)) }
            }
        }
    }

    static func queue(_ database: any Database) -> JobQueue {
        JobQueue(database: database, handlers: [], logger: Logger(label: "jobs"))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first, as JSON lines.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Only jobs in this state: queued, running, succeeded, failed or cancelled.") var status: String?
        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            let (status, limit) = (self.status, self.limit)
            guard (1...10_000).contains(limit) else { throw fail("--limit must be between 1 and 10000", code: 2) }
            if let status, !["queued", "running", "succeeded", "failed", "cancelled"].contains(status) {
                throw fail("--status must be queued, running, succeeded, failed or cancelled", code: 2)
            }
            try await withMigratedDatabase(options) { database in
                for job in try await JobsCommand.queue(database).list(status: status, limit: limit) {
                    print(try jsonText(job))
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a failed or cancelled job again with a fresh set of tries.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The job id.") var id: String

        func run() async throws {
            let id = self.id
            try await withMigratedDatabase(options) { database in
                guard try await JobsCommand.queue(database).retry(id: id) else {
                    throw fail("no failed or cancelled job \(id)")
                }
                print("\(id): queued")
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a queued job, or ask a running one to stop (within a second).")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The job id.") var id: String

        func run() async throws {
            let id = self.id
            try await withMigratedDatabase(options) { database in
                guard try await JobsCommand.queue(database).cancel(id: id) else {
                    throw fail("no queued or running job \(id)")
                }
                print("\(id): cancelled")
            }
        }
    }
}
