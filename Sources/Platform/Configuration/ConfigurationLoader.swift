import Foundation
import Kernel

/// Resolves the configuration from its four layers. Later layers win: defaults < file < environment < flags.
package struct ConfigurationLoader: Sendable {
    /// Values given as command-line flags, keyed by `ConfigurationKey.name`.
    package var flags: [String: String]
    /// The process environment (only `INOPSIO_*` entries are read).
    package var environment: [String: String]
    /// Path of a JSON config file (`--config` or `INOPSIO_CONFIG`).
    package var configFile: String?

    package init(flags: [String: String] = [:], environment: [String: String] = [:], configFile: String? = nil) {
        self.flags = flags
        self.environment = environment
        self.configFile = configFile
    }

    /// The resolved configuration and, per key name, where its value came from.
    package struct Resolved: Sendable {
        package let configuration: InopsioConfiguration
        package let sources: [String: String]
    }

    package func load() throws(ConfigurationError) -> Resolved {
        var configuration = InopsioConfiguration()
        var sources: [String: String] = [:]
        let fileValues = try readFile()
        let environment = Self.withoutServiceLinks(self.environment)
        for key in ConfigurationKey.all {
            let candidates: [(String?, String)] = [
                (flags[key.name], key.flagName),
                (environment[key.environmentName], key.environmentName),
                (fileValues[key.name], "config file \(configFile ?? "")"),
            ]
            guard let (value, source) = candidates.first(where: { $0.0 != nil }).map({ ($0.0!, $0.1) }) else {
                sources[key.name] = "default"
                continue
            }
            do {
                try key.apply(value, &configuration)
            } catch {
                throw ConfigurationError(key: key.name, source: source, problem: error.message)
            }
            sources[key.name] = source
        }
        if let unknown = environment.keys.sorted().first(where: { isUnknownEnvironmentName($0) }) {
            throw ConfigurationError(key: unknown, source: "environment", problem: "unknown setting")
        }
        return Resolved(configuration: configuration, sources: sources)
    }

    /// Drops the variables Kubernetes injects for a Service named `inopsio` (`INOPSIO_PORT=tcp://10.0.0.1:8080`,
    /// `INOPSIO_SERVICE_HOST`, `INOPSIO_PORT_8080_TCP_*`), which would otherwise read as settings.
    static func withoutServiceLinks(_ environment: [String: String]) -> [String: String] {
        environment.filter { name, value in
            if name.hasPrefix("INOPSIO_SERVICE_") || name.hasPrefix("INOPSIO_PORT_") { return false }
            if name == "INOPSIO_PORT" && value.hasPrefix("tcp://") { return false }
            return true
        }
    }

    private func isUnknownEnvironmentName(_ name: String) -> Bool {
        guard name.hasPrefix("INOPSIO_") else { return false }
        // Variables read by scripts and tests rather than by the server itself.
        let passThrough = ["INOPSIO_CONFIG", "INOPSIO_BINARY"]
        if passThrough.contains(name) || name.hasPrefix("INOPSIO_TEST_") || name.hasPrefix("INOPSIO_BENCH_") {
            return false
        }
        return !ConfigurationKey.all.contains { $0.environmentName == name }
    }

    /// Reads the JSON config file: an object whose keys are setting names and values strings, numbers or booleans.
    private func readFile() throws(ConfigurationError) -> [String: String] {
        guard let configFile else { return [:] }
        let source = "config file \(configFile)"
        guard let data = FileManager.default.contents(atPath: configFile) else {
            throw ConfigurationError(key: "config", source: "--config", problem: "cannot read \(configFile)")
        }
        let dictionary: [String: JSONValue]
        do {
            dictionary = try JSONDecoder().decode([String: JSONValue].self, from: data)
        } catch {
            throw ConfigurationError(key: "config", source: source, problem: "must be a JSON object of settings")
        }
        var values: [String: String] = [:]
        for (name, value) in dictionary {
            guard ConfigurationKey.all.contains(where: { $0.name == name }) else {
                throw ConfigurationError(key: name, source: source, problem: "unknown setting")
            }
            switch value {
            case .string(let text): values[name] = text
            case .bool(let flag): values[name] = flag ? "true" : "false"
            case .integer(let number): values[name] = String(number)
            case .number(let number):
                values[name] = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .array(let list):
                let names = list.compactMap { item -> String? in
                    if case .string(let text) = item { return text }
                    return nil
                }
                guard names.count == list.count else {
                    throw ConfigurationError(key: name, source: source, problem: "must be a list of strings")
                }
                values[name] = names.joined(separator: ",")
            case .null, .object:
                throw ConfigurationError(key: name, source: source, problem: "must be a string, number or boolean")
            }
        }
        return values
    }
}
