import Foundation
import Kernel
import SQLKit

/// The two SQL engines Inopsio runs on. The same SQL runs on both except for the few column types below.
package enum DatabaseDialect: String, Sendable {
    case sqlite
    case postgres

    /// Column type for UUIDs: native on PostgreSQL, canonical lower-case text on SQLite.
    package var uuidType: String { self == .postgres ? "UUID" : "TEXT" }
    /// Column type for JSON documents.
    package var jsonType: String { self == .postgres ? "JSONB" : "TEXT" }
    /// Timestamps are stored as epoch milliseconds on both engines, so they round-trip exactly.
    package var timestampType: String { "BIGINT" }
}
