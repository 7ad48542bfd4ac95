import Foundation
import Kernel
import Platform
import SQLKit

extension SQLRow {
    func date(_ column: String) throws -> Date {
        Date(epochMilliseconds: try decode(column: column, as: Int64.self))
    }

    func optionalDate(_ column: String) throws -> Date? {
        try decode(column: column, as: Int64?.self).map(Date.init(epochMilliseconds:))
    }

    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(try decode(column: column, as: String.self).utf8))
    }
}

extension JSONDocument {
    /// `value` as JSON text, as Kernel's documents are written (sorted keys).
    static func text(_ value: some Encodable) throws -> String { try JSONDocument(encoding: value).text }
}

extension Date {
    /// The stored precision (milliseconds), so values read back compare equal to values written.
    var storedPrecision: Date { Date(epochMilliseconds: epochMilliseconds) }
}

/// The key an address is unique and suppressed by: the whole address lower-cased.
enum EmailKey {
    static func of(_ email: String) -> String { email.trimmingCharacters(in: .whitespaces).lowercased() }
}

extension Transaction {
    /// One ascending page of a tenant table (`table` is a constant name, never input): its rows after `after` by id.
    func page(of table: String, after: UUID?, limit: Int) async throws -> [any SQLRow] {
        let tenant = try requireTenant()
        var query = SQLQueryString("SELECT * FROM \(unsafeRaw: table) WHERE tenant_id = ")
        query.appendInterpolation(bind(tenant))
        if let after {
            query.appendInterpolation(unsafeRaw: " AND id > ")
            query.appendInterpolation(bind(after))
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all()
    }
}
