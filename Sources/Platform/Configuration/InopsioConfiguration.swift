import Foundation
import Logging

/// Everything an `inopsio` process is told at start-up, after precedence has been applied
/// (flags > `INOPSIO_*` environment > config file > defaults) and every value validated.
package struct InopsioConfiguration: Sendable, Equatable {
    package var host = "127.0.0.1"
    package var port = 8080
    package var dataDirectory = "./data"
    /// `secrets_keys`: the keys that seal secrets at rest, `id:base64,id:base64` (current first); `nil` reads the
    /// key file.
    package var secretsKeys: String? = nil
    /// `secrets_key_file`: the key file; `nil` means `<data_dir>/secrets.key` (made on first start).
    package var secretsKeyFile: String? = nil
    /// `blob_url`: where files are kept; `nil` means `<data_dir>/blobs` (see `BlobStore`).
    package var blobURL: String? = nil
    /// The modules to run; `nil` means all of them.
    package var modules: [String]? = nil
    package var databaseURL: String? = nil
    package var redisURL: String? = nil
    /// The external base URL without a trailing slash; `nil` derives it from each request's `Host`.
    package var publicURL: String? = nil
    /// `smtp://` or `smtps://` URL of the outgoing mail server; `nil` writes `.eml` files to `<data_dir>/mail`.
    package var mailURL: String? = nil
    /// The sender of the installation's mail.
    package var mailFrom = "Inopsio <no-reply@localhost>"
    package var logLevel: Logger.Level = .info
    package var logFormat: LogFormat = .json
    package var accessLog = true
    package var maxBodyBytes = 1_048_576
    /// The body limit of the paths modules declare as uploads (`Module.uploadPaths`): 25 MiB by default.
    package var maxUploadBytes = 26_214_400
    package var shutdownGraceSeconds = 30
    /// A keep-alive connection without a request in progress is closed after this long (slow clients included).
    package var idleTimeoutSeconds = 60
    /// `event_max_attempts`: tries per consumer group before an event becomes a dead letter.
    package var eventMaxAttempts = 8
    /// `event_workers`: concurrent workers per consumer group in each process.
    package var eventWorkers = 4
    /// `event_notifications`: PostgreSQL `LISTEN/NOTIFY` wake-ups (false behind a transaction-pooling PgBouncer).
    package var eventNotifications = true
    /// `auto` (Redis Streams when `redis_url` is set), `database` or `redis`.
    package var eventTransport = "auto"
    /// Networks outbound webhooks may reach although they are loopback, link-local or private (CIDR list).
    package var webhookAllowedNetworks: [String] = []
    /// Whether the gateway proxies the requests it can decide on the event loop itself (see the README).
    package var gatewayFastPath = true
    package var autoMigrate = true
    package var sqliteReaders = 4
    package var postgresPoolSize = 20
    package var databaseConnectTimeoutSeconds = 30
    /// PEM certificate chain and private key: when both are set the server speaks HTTPS (HTTP/2 and HTTP/1.1) and
    /// reloads them when the files change.
    package var tlsCertificate: String? = nil
    package var tlsKey: String? = nil
    /// The gateway's route file (JSON); without one the gateway routes by the modules' defaults.
    package var gatewayRoutes: String? = nil
    /// Remote modules the gateway proxies to: module name → targets (`http(s)://host:port`).
    package var upstreams: [String: [String]] = [:]
    /// The slug of the tenant that operates the installation; its admins see the gateway's admin API.
    package var operatorTenant: String? = nil

    package init() {}

    /// How log lines are written: one JSON object per line (ECS field names) or human-readable text.
    package enum LogFormat: String, Sendable, CaseIterable {
        case json
        case text
    }

    /// Whether PostgreSQL (rather than the embedded SQLite file) is configured.
    /// Whether events travel through Redis Streams (else through the database alone).
    package var usesRedisEvents: Bool {
        eventTransport == "redis" || (eventTransport == "auto" && redisURL != nil)
    }

    package var usesPostgres: Bool {
        guard let databaseURL else { return false }
        return databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://")
    }
}
