import ArgumentParser
import Foundation
import Kernel
import Logging
import Platform

/// `inopsio events dead-letters|replay`: the events consumer groups gave up on, and trying them again.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Inspect and replay dead-lettered events.",
        subcommands: [DeadLetters.self, Replay.self])

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters", abstract: "List dead letters, newest first, as JSON lines.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            let limit = self.limit
            guard (1...10_000).contains(limit) else { throw fail("--limit must be between 1 and 10000", code: 2) }
            try await withMigratedDatabase(options) { database in
                let backbone = EventBackbone(database: database, consumers: [], logger: Logger(label: "events"))
                for letter in try await backbone.deadLetters(limit: limit) { print(try jsonText(letter)) }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a dead event a fresh set of tries (in every group it died in, or one).")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The event id.") var id: String
        @Option(help: "Only this consumer group.") var group: String?

        func run() async throws {
            let (id, group) = (self.id, self.group)
            try await withMigratedDatabase(options) { database in
                let backbone = EventBackbone(database: database, consumers: [], logger: Logger(label: "events"))
                let revived = try await backbone.replay(eventID: id, group: group)
                guard revived > 0 else { throw fail("no dead letter for event \(id)") }
                print("\(id): \(revived) \(revived == 1 ? "delivery" : "deliveries") to try again")
            }
        }
    }
}
