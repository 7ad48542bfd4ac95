import Foundation
import Kernel
import SQLKit

extension SQLRow {
    package func date(_ column: String) throws -> Date {
        Date(epochMilliseconds: try decode(column: column, as: Int64.self))
    }

    package func optionalDate(_ column: String) throws -> Date? {
        try decode(column: column, as: Int64?.self).map(Date.init(epochMilliseconds:))
    }

    package func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(try decode(column: column, as: String.self).utf8))
    }
}

extension JSONDocument {
    /// `value` as JSON text, as Kernel's documents are written (sorted keys).
    package static func text(_ value: some Encodable) throws -> String { try JSONDocument(encoding: value).text }
}

extension Date {
    /// The stored precision (milliseconds), so values read back compare equal to values written.
    package var storedPrecision: Date { Date(epochMilliseconds: epochMilliseconds) }
}
