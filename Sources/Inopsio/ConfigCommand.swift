import ArgumentParser
import Foundation
import Kernel
import Logging
import Platform

/// `inopsio config print`: the effective configuration, each value with its source; secrets redacted.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect configuration.", subcommands: [Print.self])

    /// `inopsio config print`.
    struct Print: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print", abstract: "Print the effective configuration.")
        @OptionGroup var options: ConfigurationOptions

        func run() throws {
            let resolved = try options.resolve()
            let width = ConfigurationKey.all.map(\.name.count).max() ?? 0
            for key in ConfigurationKey.all {
                let padded = key.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print(
                    "\(padded) = \(key.displayValue(resolved.configuration))  (\(resolved.sources[key.name] ?? "default"))"
                )
            }
        }
    }
}
