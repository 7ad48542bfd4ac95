import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_suppressions`: addresses campaigns skip.
struct SuppressionStore: Sendable {
    /// Adds `email` unless it is already suppressed (the first reason stays). Returns whether it was new.
    @discardableResult
    func add(email: String, reason: Suppression.Reason, detail: String?, now: Date, in tx: Transaction) async throws
        -> Bool
    {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            INSERT INTO messaging_suppressions (tenant_id, email_key, reason, detail, created_at)
            VALUES (\(tx.bind(tenant)), \(bind: EmailKey.of(email)), \(bind: reason.rawValue), \(bind: detail),
                    \(bind: now.epochMilliseconds))
            ON CONFLICT (tenant_id, email_key) DO NOTHING
            RETURNING email_key
            """
        ).first() != nil
    }

    func remove(email: String, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            DELETE FROM messaging_suppressions
            WHERE tenant_id = \(tx.bind(tenant)) AND email_key = \(bind: EmailKey.of(email))
            RETURNING email_key
            """
        ).first() != nil
    }

    func find(email: String, in tx: Transaction) async throws -> Suppression? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM messaging_suppressions
            WHERE tenant_id = \(tx.bind(tenant)) AND email_key = \(bind: EmailKey.of(email))
            """
        ).first().map(Self.decode)
    }

    func list(limit: Int, after: String?, reason: Suppression.Reason?, in tx: Transaction) async throws
        -> [Suppression]
    {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM messaging_suppressions WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        if let after {
            query.appendInterpolation(unsafeRaw: " AND email_key > ")
            query.appendInterpolation(bind: after)
        }
        if let reason {
            query.appendInterpolation(unsafeRaw: " AND reason = ")
            query.appendInterpolation(bind: reason.rawValue)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY email_key LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    /// Every suppressed address key of the tenant.
    func allKeys(in tx: Transaction) async throws -> Set<String> {
        let tenant = try tx.requireTenant()
        let rows = try await tx.sql.raw(
            "SELECT email_key FROM messaging_suppressions WHERE tenant_id = \(tx.bind(tenant))"
        ).all()
        return Set(try rows.map { try $0.decode(column: "email_key", as: String.self) })
    }

    static func decode(_ row: any SQLRow) throws -> Suppression {
        Suppression(
            email: try row.decode(column: "email_key", as: String.self),
            reason: Suppression.Reason(rawValue: try row.decode(column: "reason", as: String.self)) ?? .manual,
            detail: try row.decode(column: "detail", as: String?.self), createdAt: try row.date("created_at"))
    }
}
