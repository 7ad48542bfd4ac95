import ArgumentParser
import Foundation
import Logging
import Platform
import ServiceLifecycle

/// `inopsio serve`: applies migrations (unless disabled) and runs the HTTP server until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the platform's HTTP server.")

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default 8080; 0 picks a free one).")
    var port: String?

    @Option(help: "Comma-separated modules to run, or all (default).")
    var modules: String?

    @Option(
        name: .customLong("upstream"),
        help: "A remote module for the gateway, module=url[,url] (repeatable): --upstream crm=http://10.0.0.5:8080")
    var upstream: [String] = []

    @Option(name: .customLong("routes"), help: "The gateway's route file (JSON).")
    var routes: String?

    @Option(help: "PEM certificate chain; with --tls-key the server speaks HTTPS (HTTP/2 and HTTP/1.1).")
    var tlsCertificate: String?

    @Option(help: "PEM private key of the certificate.")
    var tlsKey: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["host"] = host
        flags["port"] = port
        flags["modules"] = modules
        if !upstream.isEmpty { flags["upstreams"] = upstream.joined(separator: ";") }
        flags["gateway_routes"] = routes
        flags["tls_certificate"] = tlsCertificate
        flags["tls_key"] = tlsKey
        let configuration = try options.resolve(extraFlags: flags).configuration
        let selected: [any Module]
        do {
            selected = try ModuleCatalog.select(configuration.modules)
        } catch {
            throw fail(error.description, code: 2)
        }
        let sink = LogSink(immediate: false)
        defer { sink.flush() }
        let logger = LoggerFactory.make(label: "inopsio", sink: sink, configuration: configuration)
        do {
            try await Server.run(configuration: configuration, modules: selected, sink: sink, logger: logger)
        } catch let error as MigrationError {
            logger.critical("start-up refused", metadata: ["error.message": "\(error.description)"])
            sink.flush()
            throw fail(error.description)
        } catch let error as SecretError {
            logger.critical("start-up refused", metadata: ["error.message": "\(error.description)"])
            sink.flush()
            throw fail(error.description)
        } catch {
            logger.critical("server stopped with an error", metadata: ["error.message": "\(String(reflecting: error))"])
            sink.flush()
            throw fail("server stopped with an error: \(error)")
        }
    }
}
