import Foundation
import Logging
import Platform
import Testing

@Suite struct ConfigurationTests {
    func writeFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inopsio-config-\(UUID()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsNeedNoInput() throws {
        let resolved = try ConfigurationLoader().load()
        #expect(resolved.configuration == InopsioConfiguration())
        #expect(resolved.configuration.port == 8080)
        #expect(resolved.configuration.dataDirectory == "./data")
        #expect(resolved.sources["port"] == "default")
    }

    @Test func flagsBeatEnvironmentWhichBeatsFileWhichBeatsDefaults() throws {
        let file = try writeFile(#"{"port": 7000, "host": "0.0.0.0", "log_level": "debug", "access_log": false}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let resolved = try ConfigurationLoader(
            flags: ["port": "9000"],
            environment: ["INOPSIO_PORT": "8000", "INOPSIO_HOST": "10.0.0.1"],
            configFile: file
        ).load()
        #expect(resolved.configuration.port == 9000)
        #expect(resolved.sources["port"] == "--port")
        #expect(resolved.configuration.host == "10.0.0.1")
        #expect(resolved.sources["host"] == "INOPSIO_HOST")
        #expect(resolved.configuration.logLevel == .debug)
        #expect(resolved.configuration.accessLog == false)
        #expect(resolved.configuration.maxBodyBytes == 1_048_576)
    }

    @Test func invalidPortNamesTheKeyAndTheSource() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: ["INOPSIO_PORT": "eighty"]).load()
        }
        do {
            _ = try ConfigurationLoader(environment: ["INOPSIO_PORT": "eighty"]).load()
        } catch {
            #expect(error.key == "port")
            #expect(error.source == "INOPSIO_PORT")
            #expect(error.description.contains("must be an integer from 0 to 65535"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(arguments: [
        ("log_level", "loud"), ("max_body_bytes", "-1"), ("database_url", "mysql://x"), ("redis_url", "http://r"),
        ("shutdown_grace_seconds", "0"), ("auto_migrate", "maybe"), ("modules", ","),
    ])
    func invalidValuesAreRefused(_ key: String, _ value: String) {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader(flags: [key: value]).load() }
    }

    @Test func sizesAcceptSuffixes() throws {
        #expect(try ConfigurationLoader(flags: ["max_body_bytes": "512k"]).load().configuration.maxBodyBytes == 524_288)
        #expect(try ConfigurationLoader(flags: ["max_body_bytes": "8m"]).load().configuration.maxBodyBytes == 8_388_608)
    }

    @Test func unknownEnvironmentSettingIsAnError() {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader(environment: ["INOPSIO_PROT": "1"]).load() }
    }

    @Test func kubernetesServiceLinkVariablesAreNotMistakenForSettings() throws {
        let resolved = try ConfigurationLoader(environment: [
            "INOPSIO_PORT": "tcp://10.96.0.12:8080", "INOPSIO_SERVICE_HOST": "10.96.0.12",
            "INOPSIO_SERVICE_PORT": "8080", "INOPSIO_PORT_8080_TCP_ADDR": "10.96.0.12",
        ]).load()
        #expect(resolved.configuration.port == 8080)
        #expect(resolved.sources["port"] == "default")
    }

    @Test func unknownFileSettingIsAnError() throws {
        let file = try writeFile(#"{"prot": 1}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader(configFile: file).load() }
    }

    @Test func malformedFileIsAnError() throws {
        let file = try writeFile("{not json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader(configFile: file).load() }
    }

    @Test func modulesListAndAll() throws {
        #expect(try ConfigurationLoader(flags: ["modules": "all"]).load().configuration.modules == nil)
        #expect(try ConfigurationLoader(flags: ["modules": "crm, ERP"]).load().configuration.modules == ["crm", "erp"])
    }

    @Test func databasePasswordIsRedactedForDisplay() throws {
        let configuration = try ConfigurationLoader(
            environment: ["INOPSIO_DATABASE_URL": "postgres://app:s3cret@db:5432/inopsio"]
        ).load().configuration
        let key = try #require(ConfigurationKey.all.first { $0.name == "database_url" })
        let shown = key.displayValue(configuration)
        #expect(!shown.contains("s3cret"))
        #expect(shown.contains("app:REDACTED@db"))
        #expect(configuration.usesPostgres)
    }
}
