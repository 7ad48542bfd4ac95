import Foundation
import Kernel
import Platform
import SQLKit

/// Users and their role assignments. Every method runs inside the caller's tenant transaction.
struct UserStore: Sendable {
    func insert(
        email: String, name: String, passwordHash: String?, status: User.Status, roles: [String], now: Date,
        emailVerified: Bool = false, in tx: Transaction
    ) async throws -> User {
        let tenant = try tx.requireTenant()
        let id = ID<User>.generate()
        let millis = now.epochMilliseconds
        let inserted = try await tx.sql.raw(
            """
            INSERT INTO identity_users (tenant_id, id, email, name, password_hash, status, email_verified_at,
                                        created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(id.rawValue)), \(bind: email), \(bind: name), \(bind: passwordHash),
                    \(bind: status.rawValue), \(bind: emailVerified ? millis : nil), \(bind: millis), \(bind: millis))
            ON CONFLICT (tenant_id, email) DO NOTHING
            RETURNING id
            """
        ).first()
        guard inserted != nil else { throw DomainError.conflict("a user with this email already exists") }
        try await setRoles(roles, of: id, in: tx)
        return User(
            id: id, email: email, name: name, status: status, roles: roles.sorted(),
            emailVerifiedAt: emailVerified ? Date(epochMilliseconds: millis) : nil, locale: nil, timeZone: nil,
            lastLoginAt: nil, mfaEnabled: false, version: 1, createdAt: Date(epochMilliseconds: millis),
            updatedAt: Date(epochMilliseconds: millis))
    }

    func find(id: ID<User>, in tx: Transaction) async throws -> User? {
        try await findWithCredentials(where: "id", equals: tx.bind(id.rawValue), in: tx)?.user
    }

    func findWithCredentials(email: String, in tx: Transaction) async throws -> (
        user: User, credentials: UserCredentials
    )? {
        try await findWithCredentials(where: "email", equals: SQLBind(email), in: tx)
    }

    func findWithCredentials(id: ID<User>, in tx: Transaction) async throws -> (
        user: User, credentials: UserCredentials
    )? {
        try await findWithCredentials(where: "id", equals: tx.bind(id.rawValue), in: tx)
    }

    private func findWithCredentials(where column: String, equals value: any SQLExpression, in tx: Transaction)
        async throws -> (user: User, credentials: UserCredentials)?
    {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                "SELECT * FROM identity_users WHERE tenant_id = \(tx.bind(tenant)) AND \(unsafeRaw: column) = \(value)"
            ).first()
        else { return nil }
        let user = try decode(row, roles: try await roles(of: ID(try row.decodeUUID(column: "id")), in: tx))
        return (user, try decodeCredentials(row))
    }

    /// Users ordered by id (time of creation), `limit` at a time after `after`, optionally filtered.
    func list(limit: Int, after: ID<User>?, status: User.Status?, email: String?, in tx: Transaction) async throws
        -> [User]
    {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM identity_users WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        if let after {
            query.appendInterpolation(unsafeRaw: " AND id > ")
            query.appendInterpolation(tx.bind(after.rawValue))
        }
        if let status {
            query.appendInterpolation(unsafeRaw: " AND status = ")
            query.appendInterpolation(bind: status.rawValue)
        }
        if let email {
            query.appendInterpolation(unsafeRaw: " AND email = ")
            query.appendInterpolation(bind: email)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id LIMIT ")
        query.appendInterpolation(bind: limit)
        let rows = try await tx.sql.raw(query).all()
        let roleRows = try await tx.sql.raw(
            "SELECT user_id, role FROM identity_user_roles WHERE tenant_id = \(tx.bind(tenant))"
        ).all()
        var rolesByUser: [UUID: [String]] = [:]
        for row in roleRows {
            rolesByUser[try row.decodeUUID(column: "user_id"), default: []].append(
                try row.decode(column: "role", as: String.self))
        }
        return try rows.map { row in try decode(row, roles: rolesByUser[try row.decodeUUID(column: "id")] ?? []) }
    }

    /// Writes the profile fields and status of `user`, bumping its version; fails when `user.version` is stale.
    func update(_ user: User, now: Date, in tx: Transaction) async throws -> User {
        let tenant = try tx.requireTenant()
        let updated = try await tx.sql.raw(
            """
            UPDATE identity_users SET name = \(bind: user.name), status = \(bind: user.status.rawValue),
                locale = \(bind: user.locale), time_zone = \(bind: user.timeZone), version = version + 1,
                updated_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(user.id.rawValue)) AND version = \(bind: user.version)
            RETURNING version
            """
        ).first()
        guard let version = try updated?.decode(column: "version", as: Int.self) else {
            throw DomainError.conflict("the user was changed by someone else; reload and try again")
        }
        try await setRoles(user.roles, of: user.id, in: tx)
        var result = user
        result.version = version
        result.updatedAt = Date(epochMilliseconds: now.epochMilliseconds)
        result.roles = user.roles.sorted()
        return result
    }

    func setPasswordHash(_ hash: String, of id: ID<User>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_users SET password_hash = \(bind: hash), updated_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    /// Records a failed sign-in: the new failure count and the time until which sign-in is refused.
    func recordFailure(of id: ID<User>, failures: Int, lockedUntil: Date?, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_users SET failed_logins = \(bind: failures), last_failed_at = \(bind: now.epochMilliseconds),
                locked_until = \(bind: lockedUntil?.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    func recordSuccess(of id: ID<User>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_users SET failed_logins = 0, locked_until = NULL, last_login_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    /// Forgets failed sign-ins (after a password reset proved who the user is).
    func clearLockout(of id: ID<User>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_users SET failed_logins = 0, locked_until = NULL
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    func markEmailVerified(_ id: ID<User>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE identity_users SET email_verified_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue)) AND email_verified_at IS NULL
            """
        ).run()
    }

    func roles(of id: ID<User>, in tx: Transaction) async throws -> [String] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT role FROM identity_user_roles WHERE tenant_id = \(tx.bind(tenant)) AND user_id = \(tx.bind(id.rawValue))
            ORDER BY role
            """
        ).all().map { try $0.decode(column: "role", as: String.self) }
    }

    /// How many active users hold `role` (to refuse removing the last tenant admin).
    func countActive(withRole role: String, in tx: Transaction) async throws -> Int {
        let tenant = try tx.requireTenant()
        let row = try await tx.sql.raw(
            """
            SELECT COUNT(*) AS n FROM identity_user_roles r JOIN identity_users u
              ON u.tenant_id = r.tenant_id AND u.id = r.user_id
            WHERE r.tenant_id = \(tx.bind(tenant)) AND r.role = \(bind: role) AND u.status = 'active'
            """
        ).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Name and address of every active user holding `role`.
    func activeAddresses(withRole role: String, in tx: Transaction) async throws -> [(name: String, email: String)] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT u.name, u.email FROM identity_user_roles r JOIN identity_users u
              ON u.tenant_id = r.tenant_id AND u.id = r.user_id
            WHERE r.tenant_id = \(tx.bind(tenant)) AND r.role = \(bind: role) AND u.status = 'active'
            ORDER BY u.email
            """
        ).all().map {
            (try $0.decode(column: "name", as: String.self), try $0.decode(column: "email", as: String.self))
        }
    }

    private func setRoles(_ roles: [String], of id: ID<User>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM identity_user_roles WHERE tenant_id = \(tx.bind(tenant)) AND user_id = \(tx.bind(id.rawValue))"
        ).run()
        for role in Set(roles) {
            try await tx.sql.raw(
                """
                INSERT INTO identity_user_roles (tenant_id, user_id, role)
                VALUES (\(tx.bind(tenant)), \(tx.bind(id.rawValue)), \(bind: role))
                """
            ).run()
        }
    }

    private func decode(_ row: any SQLRow, roles: [String]) throws -> User {
        User(
            id: ID(try row.decodeUUID(column: "id")),
            email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            status: User.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .deactivated,
            roles: roles.sorted(),
            emailVerifiedAt: try row.decode(column: "email_verified_at", as: Int64?.self).map(
                Date.init(epochMilliseconds:)),
            locale: try row.decode(column: "locale", as: String?.self),
            timeZone: try row.decode(column: "time_zone", as: String?.self),
            lastLoginAt: try row.decode(column: "last_login_at", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            mfaEnabled: try row.decode(column: "totp_enabled_at", as: Int64?.self) != nil,
            version: try row.decode(column: "version", as: Int.self),
            createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(epochMilliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }

    private func decodeCredentials(_ row: any SQLRow) throws -> UserCredentials {
        UserCredentials(
            passwordHash: try row.decode(column: "password_hash", as: String?.self),
            failedLogins: try row.decode(column: "failed_logins", as: Int.self),
            lastFailedAt: try row.decode(column: "last_failed_at", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            lockedUntil: try row.decode(column: "locked_until", as: Int64?.self).map(Date.init(epochMilliseconds:)),
            totpSecret: try row.decode(column: "totp_secret", as: String?.self),
            totpLastStep: try row.decode(column: "totp_last_step", as: Int64?.self))
    }
}
