import ArgumentParser
import Foundation
import Kernel
import Logging
import Platform

/// `inopsio version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    static let current = "0.1.0-dev"

    func run() {
        print("inopsio \(Self.current)")
    }
}
