import Foundation
import Kernel
import Platform
import SQLKit

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
