import ArgumentParser
import Foundation
import Platform

/// Options every command that needs configuration accepts. Values are taken as text and validated by the
/// configuration loader, so a bad value always produces the same one-line error and exit code 2.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "JSON configuration file (also INOPSIO_CONFIG).")
    var configFile: String?

    @Option(name: .customLong("data-dir"), help: "Directory for the embedded database (default ./data).")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: "postgres://... to use PostgreSQL instead of SQLite.")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    var flagValues: [String: String] {
        var values: [String: String] = [:]
        values["data_dir"] = dataDirectory
        values["database_url"] = databaseURL
        values["log_level"] = logLevel
        return values
    }

    /// Resolves flags > environment > file > defaults, or exits 2 with one line naming the key.
    func resolve(extraFlags: [String: String] = [:]) throws -> ConfigurationLoader.Resolved {
        let environment = ProcessInfo.processInfo.environment
        let loader = ConfigurationLoader(
            flags: flagValues.merging(extraFlags) { $1 }, environment: environment,
            configFile: configFile ?? environment["INOPSIO_CONFIG"])
        do {
            return try loader.load()
        } catch {
            FileHandle.standardError.write(Data("inopsio: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// Prints one line to standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("inopsio: \(message)\n".utf8))
    return ExitCode(code)
}
