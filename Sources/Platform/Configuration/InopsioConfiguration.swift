import Foundation
import Logging

/// Everything an `inopsio` process is told at start-up, after precedence has been applied
/// (flags > `INOPSIO_*` environment > config file > defaults) and every value validated.
public struct InopsioConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory = "./data"
    /// The modules to run; `nil` means all of them.
    public var modules: [String]? = nil
    public var databaseURL: String? = nil
    public var redisURL: String? = nil
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .json
    public var accessLog = true
    public var maxBodyBytes = 1_048_576
    public var shutdownGraceSeconds = 30
    public var autoMigrate = true
    public var sqliteReaders = 4
    public var postgresPoolSize = 20

    public init() {}

    /// How log lines are written: one JSON object per line (ECS field names) or human-readable text.
    public enum LogFormat: String, Sendable, CaseIterable {
        case json
        case text
    }

    /// Whether PostgreSQL (rather than the embedded SQLite file) is configured.
    public var usesPostgres: Bool {
        guard let databaseURL else { return false }
        return databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://")
    }
}
