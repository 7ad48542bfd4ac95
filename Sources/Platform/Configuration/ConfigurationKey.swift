import Foundation
import Logging

/// One configurable setting: its names in each source, whether it is secret, and how its text is parsed.
package struct ConfigurationKey: Sendable {
    /// The name in the config file and in `config print` (`snake_case`).
    package let name: String
    package let summary: String
    package let isSecret: Bool
    let apply: @Sendable (String, inout InopsioConfiguration) throws(ConfigurationProblem) -> Void
    let current: @Sendable (InopsioConfiguration) -> String?

    /// `INOPSIO_` + upper-cased name.
    package var environmentName: String { "INOPSIO_" + name.uppercased() }
    /// `--` + kebab-cased name.
    package var flagName: String { "--" + name.replacingOccurrences(of: "_", with: "-") }

    /// The value as `config print` shows it: secrets (passwords inside URLs) redacted.
    package func displayValue(_ configuration: InopsioConfiguration) -> String {
        guard let value = current(configuration) else { return "(not set)" }
        guard isSecret else { return value }
        // A URL keeps its host and user (only its password is hidden); any other secret is hidden whole.
        return value.contains("://") ? Redaction.redactURL(value) : "REDACTED"
    }
}

/// The reason one value was refused (the key and source are added by the loader).
package struct ConfigurationProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension ConfigurationKey {
    /// A setting that holds any non-empty text (a file path, a slug), kept as it is.
    static func text(
        _ name: String, summary: String, field: any WritableKeyPath<InopsioConfiguration, String?> & Sendable,
        meaning: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            name: name, summary: summary, isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard !text.isEmpty else { throw ConfigurationProblem("must be \(meaning)") }
                config[keyPath: field] = text
            }, current: { $0[keyPath: field] })
    }

    /// Every setting, in the order `config print` and the README table list them.
    package static let all: [ConfigurationKey] = [
        ConfigurationKey(
            name: "host", summary: "Address to listen on", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard !text.isEmpty, !text.contains(" ") else {
                    throw ConfigurationProblem("must be a host name or IP address")
                }
                config.host = text
            }, current: { $0.host }),
        ConfigurationKey(
            name: "port", summary: "TCP port to listen on", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.port = try parseInt(text, in: 0...65535) },
            current: { String($0.port) }),
        ConfigurationKey(
            name: "data_dir", summary: "Directory for the SQLite database and local files", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard !text.isEmpty else { throw ConfigurationProblem("must not be empty") }
                config.dataDirectory = text
            }, current: { $0.dataDirectory }),
        ConfigurationKey(
            name: "secrets_keys",
            summary:
                "Keys sealing secrets at rest, `id:base64key,...` (32-byte keys, current first); unset = secrets_key_file",
            isSecret: true,
            apply: { text, config throws(ConfigurationProblem) in
                do { _ = try SecretKeyring.parse(text, separator: ",") } catch {
                    throw ConfigurationProblem("\(error)")
                }
                config.secretsKeys = text
            }, current: { $0.secretsKeys }),
        .text(
            "secrets_key_file",
            summary: "File of keys sealing secrets at rest; default data_dir/secrets.key, made on first start",
            field: \.secretsKeyFile, meaning: "a file path"),
        ConfigurationKey(
            name: "blob_url",
            summary:
                "Where files are kept: `s3://ACCESS_KEY:SECRET@host/bucket?region=...` (`s3+http://` without TLS); unset = data_dir/blobs",
            isSecret: true,
            apply: { text, config throws(ConfigurationProblem) in
                do { _ = try S3BlobStore.Configuration.parse(url: text) } catch {
                    throw ConfigurationProblem("\(error)")
                }
                config.blobURL = text
            }, current: { $0.blobURL }),
        ConfigurationKey(
            name: "modules", summary: "Comma-separated modules to run, or `all`", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else {
                    throw ConfigurationProblem("must be `all` or a comma-separated list of module names")
                }
                config.modules = names == ["all"] ? nil : names
            }, current: { $0.modules?.joined(separator: ",") ?? "all" }),
        ConfigurationKey(
            name: "database_url",
            summary: "`postgres://user:pass@host:5432/db` for PostgreSQL; unset for embedded SQLite",
            isSecret: true,
            apply: { text, config throws(ConfigurationProblem) in
                guard let scheme = URLComponents(string: text)?.scheme,
                    ["postgres", "postgresql", "sqlite"].contains(scheme)
                else { throw ConfigurationProblem("must be a postgres:// or sqlite: URL") }
                if scheme != "sqlite" {
                    do { _ = try PostgresURL.parse(text) } catch { throw ConfigurationProblem("\(error)") }
                }
                config.databaseURL = text
            }, current: { $0.databaseURL }),
        ConfigurationKey(
            name: "public_url",
            summary:
                "External base URL (`https://ops.example.com`): token issuer and links in emails; unset = the request's host",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme),
                    components.host?.isEmpty == false, components.query == nil, components.fragment == nil
                else { throw ConfigurationProblem("must be an http:// or https:// URL without query or fragment") }
                config.publicURL = text.hasSuffix("/") ? String(text.dropLast()) : text
            }, current: { $0.publicURL }),
        ConfigurationKey(
            name: "mail_url",
            summary:
                "`smtp://user:pass@host:587?starttls=required`, `smtps://...:465` or `sendgrid://apikey:API_KEY@api.sendgrid.com`; unset = `.eml` files in data_dir/mail",
            isSecret: true,
            apply: { text, config throws(ConfigurationProblem) in
                do {
                    if try SendGridMailTransport.parse(url: text) == nil { _ = try SMTPConfiguration.parse(url: text) }
                } catch {
                    throw ConfigurationProblem("must be an smtp://, smtps:// or sendgrid:// URL (\(error))")
                }
                config.mailURL = text
            }, current: { $0.mailURL }),
        ConfigurationKey(
            name: "mail_from", summary: "Sender of outgoing mail, `Name <address>`", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard MailAddress.parse(text) != nil else {
                    throw ConfigurationProblem("must be an address like `Inopsio <no-reply@example.com>`")
                }
                config.mailFrom = text
            }, current: { $0.mailFrom }),
        ConfigurationKey(
            name: "redis_url", summary: "`redis://host:6379` to share cache, limits and events across instances",
            isSecret: true,
            apply: { text, config throws(ConfigurationProblem) in
                guard let components = URLComponents(string: text), ["redis", "rediss"].contains(components.scheme),
                    components.host?.isEmpty == false
                else { throw ConfigurationProblem("must be a redis:// or rediss:// URL with a host") }
                config.redisURL = text
            }, current: { $0.redisURL }),
        .text(
            "tls_certificate", summary: "PEM certificate chain; with tls_key the server speaks HTTPS (HTTP/2)",
            field: \.tlsCertificate, meaning: "a file path"),
        .text("tls_key", summary: "PEM private key of tls_certificate", field: \.tlsKey, meaning: "a file path"),
        .text(
            "gateway_routes", summary: "The gateway's route file (JSON); default: routes from the modules",
            field: \.gatewayRoutes, meaning: "a file path"),
        ConfigurationKey(
            name: "upstreams",
            summary: "Remote modules for the gateway: `crm=http://10.0.0.5:8080,http://10.0.0.6:8080;erp=http://...`",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                var upstreams: [String: [String]] = [:]
                for entry in text.split(separator: ";") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
                    let parts = entry.split(separator: "=", maxSplits: 1)
                    let name = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                    guard parts.count == 2, !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber }) else {
                        throw ConfigurationProblem("each entry must be module=url[,url]; entries are separated by ;")
                    }
                    let targets = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    for target in targets {
                        guard let components = URLComponents(string: target),
                            ["http", "https"].contains(components.scheme), components.host?.isEmpty == false
                        else { throw ConfigurationProblem("\(target) is not an http(s)://host:port URL") }
                    }
                    upstreams[name, default: []] += targets
                }
                config.upstreams = upstreams
            },
            current: { config in
                config.upstreams.isEmpty
                    ? nil
                    : config.upstreams.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.joined(separator: ","))" }
                        .joined(separator: ";")
            }),
        .text(
            "operator_tenant", summary: "Slug of the tenant whose admins administer the installation",
            field: \.operatorTenant, meaning: "a tenant slug"),
        ConfigurationKey(
            name: "log_level", summary: "trace, debug, info, notice, warning, error or critical", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw ConfigurationProblem("must be one of trace, debug, info, notice, warning, error, critical")
                }
                config.logLevel = level
            }, current: { $0.logLevel.rawValue }),
        ConfigurationKey(
            name: "log_format", summary: "json (ECS fields) or text", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard let format = InopsioConfiguration.LogFormat(rawValue: text.lowercased()) else {
                    throw ConfigurationProblem("must be json or text")
                }
                config.logFormat = format
            }, current: { $0.logFormat.rawValue }),
        ConfigurationKey(
            name: "access_log", summary: "Write one JSON line per HTTP request", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.accessLog = try parseBool(text) },
            current: { String($0.accessLog) }),
        ConfigurationKey(
            name: "max_body_bytes", summary: "Largest accepted request body (bytes; k/m suffixes allowed)",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.maxBodyBytes = try parseSize(text) },
            current: { String($0.maxBodyBytes) }),
        ConfigurationKey(
            name: "max_upload_bytes",
            summary: "Largest file a module's upload path accepts (attachments; bytes, k/m suffixes allowed)",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.maxUploadBytes = try parseSize(text) },
            current: { String($0.maxUploadBytes) }),
        ConfigurationKey(
            name: "shutdown_grace_seconds", summary: "How long SIGTERM waits for in-flight requests", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                config.shutdownGraceSeconds = try parseInt(text, in: 1...3600)
            }, current: { String($0.shutdownGraceSeconds) }),
        ConfigurationKey(
            name: "idle_timeout_seconds", summary: "Close keep-alive connections idle this long", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                config.idleTimeoutSeconds = try parseInt(text, in: 1...3600)
            }, current: { String($0.idleTimeoutSeconds) }),
        ConfigurationKey(
            name: "event_max_attempts", summary: "Tries of an event per consumer group before it is a dead letter",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                config.eventMaxAttempts = try parseInt(text, in: 1...50)
            }, current: { String($0.eventMaxAttempts) }),
        ConfigurationKey(
            name: "event_workers", summary: "Concurrent workers per event consumer group in each process",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                config.eventWorkers = try parseInt(text, in: 1...64)
            }, current: { String($0.eventWorkers) }),
        ConfigurationKey(
            name: "event_notifications",
            summary: "PostgreSQL LISTEN/NOTIFY wake-ups for events (false behind a transaction-pooling PgBouncer)",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.eventNotifications = try parseBool(text) },
            current: { String($0.eventNotifications) }),
        ConfigurationKey(
            name: "event_transport",
            summary: "Where events travel: auto (Redis Streams when redis_url is set), database or redis",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                guard ["auto", "database", "redis"].contains(text) else {
                    throw ConfigurationProblem("must be auto, database or redis")
                }
                config.eventTransport = text
            }, current: { $0.eventTransport }),
        ConfigurationKey(
            name: "webhook_allowed_networks",
            summary: "Comma-separated CIDR ranges webhooks may reach although loopback, link-local or private",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                let ranges = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
                for range in ranges where IPRange(range) == nil {
                    throw ConfigurationProblem("\(range) is not an IP address or CIDR range")
                }
                config.webhookAllowedNetworks = ranges
            }, current: { $0.webhookAllowedNetworks.joined(separator: ",") }),
        ConfigurationKey(
            name: "gateway_fast_path",
            summary: "Proxy requests decidable from memory on the event loop (false: all through the router)",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.gatewayFastPath = try parseBool(text) },
            current: { String($0.gatewayFastPath) }),
        ConfigurationKey(
            name: "auto_migrate", summary: "Apply pending migrations at start-up (else run `inopsio migrate`)",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.autoMigrate = try parseBool(text) },
            current: { String($0.autoMigrate) }),
        ConfigurationKey(
            name: "sqlite_readers", summary: "Read-only SQLite connections", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in config.sqliteReaders = try parseInt(text, in: 1...64)
            },
            current: { String($0.sqliteReaders) }),
        ConfigurationKey(
            name: "postgres_pool_size", summary: "Maximum PostgreSQL connections per process", isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                config.postgresPoolSize = try parseInt(text, in: 1...500)
            }, current: { String($0.postgresPoolSize) }),
        ConfigurationKey(
            name: "database_connect_timeout_seconds", summary: "How long start-up waits for PostgreSQL to answer",
            isSecret: false,
            apply: { text, config throws(ConfigurationProblem) in
                config.databaseConnectTimeoutSeconds = try parseInt(text, in: 1...3600)
            }, current: { String($0.databaseConnectTimeoutSeconds) }),
    ]

    static func parseInt(_ text: String, in range: ClosedRange<Int>) throws(ConfigurationProblem) -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationProblem(
                "must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    static func parseBool(_ text: String) throws(ConfigurationProblem) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationProblem("must be true or false, got \"\(text)\"")
        }
    }

    static func parseSize(_ text: String) throws(ConfigurationProblem) -> Int {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        let multiplier: Int
        let digits: Substring
        if lower.hasSuffix("k") || lower.hasSuffix("kb") {
            multiplier = 1024
            digits = lower.dropLast(lower.hasSuffix("kb") ? 2 : 1)
        } else if lower.hasSuffix("m") || lower.hasSuffix("mb") {
            multiplier = 1024 * 1024
            digits = lower.dropLast(lower.hasSuffix("mb") ? 2 : 1)
        } else {
            multiplier = 1
            digits = Substring(lower)
        }
        guard let value = Int(digits), value > 0, value <= (1 << 30) / multiplier else {
            throw ConfigurationProblem("must be a size from 1 byte to 1g, like 1048576, 512k or 8m; got \"\(text)\"")
        }
        return value * multiplier
    }
}
