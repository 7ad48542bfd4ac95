import Foundation
import Kernel
import Logging
import Prometheus

/// What the platform hands every module when it is assembled.
package struct ModuleContext: Sendable {
    package let database: any Database
    package let configuration: InopsioConfiguration
    package let logger: Logger
    package let web: WebKit
    package let clock: any WallClock
    /// Every permission the process's modules declare, for building roles.
    package let permissions: [Permission]
    /// The names of the modules this process runs.
    package let moduleNames: [String]
    /// Outgoing mail (SMTP, or `.eml` files in the data directory when no SMTP server is configured).
    package let mailer: Mailer
    /// The process's Prometheus registry, exported at `/metrics`.
    package let metrics: HTTPMetrics
    /// The verifier of Inopsio credentials for this process (Identity's, over the shared database).
    package var authenticator: (any RequestAuthenticator)?
    /// Which ids are users of a tenant (Identity's, over the shared database), for checking user references.
    package var users: (any UserDirectory)?
    /// Facts modules add to `/ready`.
    package let readiness: ReadinessDetails
    /// Seals and opens the secrets modules keep in the database (`Module.secretColumns`).
    package let secrets: SecretBox
    /// Where modules keep files (`blob_url`; by default `<data_dir>/blobs`).
    package let blobs: any BlobStore

    package init(
        database: any Database, configuration: InopsioConfiguration, logger: Logger, web: WebKit,
        clock: any WallClock = SystemWallClock(), permissions: [Permission] = [], moduleNames: [String] = [],
        mailer: Mailer, metrics: HTTPMetrics = HTTPMetrics(registry: PrometheusCollectorRegistry()),
        authenticator: (any RequestAuthenticator)? = nil, readiness: ReadinessDetails = ReadinessDetails(),
        secrets: SecretBox = .ephemeral(), blobs: (any BlobStore)? = nil
    ) {
        self.blobs = blobs ?? BlobStores.filesystem(configuration)
        // The default, a key held in memory only, suits tests; the composition root passes the configured box.
        self.secrets = secrets
        self.readiness = readiness
        self.metrics = metrics
        self.authenticator = authenticator
        self.mailer = mailer
        self.permissions = permissions
        self.moduleNames = moduleNames
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.web = web
        self.clock = clock
    }
}
