import Foundation
import Kernel
import SQLKit

extension SQLRow {
    /// Decodes a UUID column stored natively (PostgreSQL) or as text (SQLite).
    package func decodeUUID(column: String) throws -> UUID {
        if let text = try? decode(column: column, as: String.self) {
            guard let uuid = UUID(uuidString: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(column) is not a UUID"))
            }
            return uuid
        }
        return try decode(column: column, as: UUID.self)
    }

    /// Decodes a nullable UUID column.
    package func decodeOptionalUUID(column: String) throws -> UUID? {
        try decodeNil(column: column) ? nil : decodeUUID(column: column)
    }
}
