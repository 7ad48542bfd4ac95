import Foundation
import Hummingbird
import HummingbirdTesting
import Kernel
import Platform
import TestSupport
import Testing

@testable import Messaging

/// Everything a Messaging test drives: the HTTP client, the job queue (run by hand), the database and the
/// SMTP server the mailer sends to.
struct MessagingHarness: Sendable {
    let client: any TestClientProtocol
    let queue: JobQueue
    let database: any Database
    let smtp: SMTPTestServer
    let baseURL: String
    let backbone: EventBackbone

    /// Relays committed events and runs every consumer group until nothing is left.
    func deliverEvents() async throws {
        try await backbone.registerSubscriptions()
        while true {
            var work = try await backbone.relayBatch(lookFirst: false)
            for group in ["messaging", "messaging.webhooks", "messaging.live"] {
                work += try await backbone.consumeBatch(group: group, worker: "test")
            }
            if work == 0 { return }
        }
    }

    static let admin = "Bearer test:admin:" + Permission.messagingAll.map(\.description).joined(separator: ",")
    static let otherAdmin = "Bearer test2:admin:" + Permission.messagingAll.map(\.description).joined(separator: ",")

    /// Runs due jobs until `done` holds, waiting for delayed ones; fails after `limit`.
    func runJobs(until done: @Sendable () async throws -> Bool, limit: Duration = .seconds(300)) async throws {
        let deadline = ContinuousClock.now + limit
        while try await !done() {
            if ContinuousClock.now > deadline {
                Issue.record("jobs did not finish in \(limit)")
                return
            }
            if try await !queue.runNext(worker: "test") {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, auth: String? = MessagingHarness.admin,
        headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        var fields = headers
        if let auth { fields[.authorization] = auth }
        if json != nil { fields[.contentType] = "application/json" }
        return try await client.execute(
            uri: path, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}

func withMessaging(
    _ backend: TestBackend, smtpOptions: ServerOptions = ServerOptions(), allowedNetworks: [String] = [],
    webhookAttempts: Int = 8, live: Bool = false, _ body: @Sendable (MessagingHarness) async throws -> Void
) async throws {
    let module = MessagingModule()
    try await withTestDatabase(backend, migrations: PlatformMigrations.all + module.migrations) { database, base in
        try await withSMTPServer(smtpOptions) { smtp in
            var configuration = base
            configuration.publicURL = "https://mail.example.test"
            configuration.webhookAllowedNetworks = allowedNetworks
            configuration.eventMaxAttempts = webhookAttempts
            var smtpConfiguration = SMTPConfiguration(host: "127.0.0.1", port: smtp.port, security: .none)
            smtpConfiguration.commandTimeout = .seconds(30)
            let context = ModuleContext(
                database: database, configuration: configuration, logger: TestEnvironment.logger,
                web: try WebKit.bundled(navigation: [], modules: [MessagingModule()]), moduleNames: ["messaging"],
                mailer: Mailer(
                    transport: SMTPMailTransport(configuration: smtpConfiguration, logger: TestEnvironment.logger),
                    from: MailAddress("news@example.com", name: "Example News")),
                authenticator: TestAuthenticator())
            let router = try PlatformRouter.build(
                modules: [module], context: context, metrics: context.metrics, accessLog: nil)
            // Retries come quickly here; the backoff itself has its own tests.
            var settings = EventBackboneSettings()
            settings.firstRetryDelay = .milliseconds(20)
            settings.maxRetryDelay = .milliseconds(100)
            let queue = JobQueue(
                database: database, handlers: module.jobHandlers(context: context), settings: settings,
                logger: TestEnvironment.logger)
            let backbone = EventBackbone(
                database: database, consumers: module.consumers(context: context), settings: settings,
                logger: TestEnvironment.logger)
            // The platform's own listener, with the module's WebSocket endpoints, as `serve` builds it.
            let app = Application(
                router: router,
                server: .edgeHTTP1(
                    limits: .init(), edge: nil,
                    webSocket: WebSocketRoutes(
                        routes: module.webSocketRoutes(context: context), authenticator: context.authenticator)),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            // The live fan-out's listener, as `serve` runs it among the module's background services.
            let listener = Task {
                for service in module.backgroundServices(context: context) { try? await service.run() }
            }
            defer { listener.cancel() }
            try await app.test(live ? .live : .router) { client in
                try await body(
                    MessagingHarness(
                        client: client, queue: queue, database: database, smtp: smtp,
                        baseURL: "https://mail.example.test", backbone: backbone))
            }
        }
    }
}
