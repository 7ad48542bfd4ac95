import Foundation
import Kernel
import Logging
import Platform
import Synchronization

/// Everything the Messaging module's routes, jobs and consumer share.
package final class MessagingServices: Sendable {
    let database: any Database
    let mailer: Mailer
    let clock: any WallClock
    let logger: Logger
    /// Where the links in messages point: the configured public URL, else this process's address.
    let baseURL: String
    let webhooks: WebhookSettings
    /// Seals the secrets Messaging stores (`MessagingSecrets`).
    let secrets: SecretBox
    /// This process's live-update clients.
    let hub = LiveHub()
    private let signerCache = Mutex<LinkSigner?>(nil)

    package init(
        database: any Database, mailer: Mailer, clock: any WallClock, logger: Logger, baseURL: String,
        webhooks: WebhookSettings = WebhookSettings(), secrets: SecretBox = .ephemeral()
    ) {
        self.secrets = secrets
        self.webhooks = webhooks
        self.database = database
        self.mailer = mailer
        self.clock = clock
        self.logger = logger
        self.baseURL = baseURL
    }

    convenience init(context: ModuleContext) {
        let configuration = context.configuration
        var webhooks = WebhookSettings()
        webhooks.allowedNetworks = configuration.webhookAllowedNetworks.compactMap(IPRange.init)
        webhooks.maxAttempts = configuration.eventMaxAttempts
        self.init(
            database: context.database, mailer: context.mailer, clock: context.clock, logger: context.logger,
            baseURL: configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)",
            webhooks: webhooks, secrets: context.secrets)
    }

    /// The signer of links, its key read (or made) on first use.
    func signer() async throws -> LinkSigner {
        if let cached = signerCache.withLock({ $0 }) { return cached }
        let now = clock.now()
        let secrets = secrets
        let secret = try await database.system { tx in
            try await SettingsStore().linkKey(in: tx, secrets: secrets, now: now)
        }
        let signer = LinkSigner(secret: secret)
        signerCache.withLock { $0 = signer }
        return signer
    }
}
