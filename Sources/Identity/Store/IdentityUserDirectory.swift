import Foundation
import Kernel
import Platform
import SQLKit

/// Identity's answer to `UserDirectory`: a read of the tenant's users (row-level security keeps it to the tenant
/// on PostgreSQL; the query names the tenant on both engines).
struct IdentityUserDirectory: UserDirectory {
    let database: any Database

    func unknownUsers(_ ids: Set<String>, tenant: TenantID) async throws -> Set<String> {
        // Text that is not a UUID names nobody (and must not reach a uuid column).
        let candidates = ids.compactMap { UUID(uuidString: $0) }
        guard !candidates.isEmpty else { return ids }
        let found = try await database.read(tenant: tenant) { tx in
            var query = SQLQueryString("SELECT id FROM identity_users WHERE tenant_id = ")
            query.appendInterpolation(tx.bind(tenant))
            query.appendInterpolation(unsafeRaw: " AND id IN (")
            for (index, id) in candidates.enumerated() {
                if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                query.appendInterpolation(tx.bind(id))
            }
            query.appendInterpolation(unsafeRaw: ")")
            return try await tx.sql.raw(query).all().map { try $0.decodeUUID(column: "id") }
        }
        let known = Set(found.map { $0.uuidString.lowercased() })
        return ids.filter { !known.contains($0.lowercased()) }
    }
}
