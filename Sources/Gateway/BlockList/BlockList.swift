import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import Synchronization

/// A block of an IP address or range, or of an API key, until it expires (or for good).
package struct Block: Codable, Sendable, Equatable {
    package enum Kind: String, Codable, Sendable {
        case ip
        case apiKey = "api_key"
    }

    package let id: UUID
    package let kind: Kind
    /// An IP, a CIDR range, or an API key id.
    package let value: String
    package let reason: String
    package let createdBy: String
    package let createdAt: Date
    package let expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, kind, value, reason
        case createdBy = "created_by"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }
}

/// The block list every request is checked against: kept in memory and reloaded from the database every few
/// seconds, so a block added on one instance (by an admin, or by the security module) holds on all of them within
/// that time, and on the adding instance at once.
package final class BlockList: Sendable {
    let database: any Database
    private let current = Mutex(Entries())
    let refreshInterval: Duration = .seconds(5)

    struct Entries {
        /// Single addresses too, as /32 or /128: a range also matches the IPv4-mapped IPv6 form of an address.
        var ranges: [(IPRange, Date?)] = []
        var apiKeys: [String: Date?] = [:]
    }

    package init(database: any Database) {
        self.database = database
    }

    /// The active block matching a client address, if any.
    func blocks(address: String?, now: Date) -> Bool {
        guard let address else { return false }
        return current.withLock { entries in
            for (range, expiry) in entries.ranges where expiry.map({ $0 > now }) ?? true {
                if range.contains(address) { return true }
            }
            return false
        }
    }

    func blocks(apiKey id: String, now: Date) -> Bool {
        current.withLock { entries in
            guard let expiry = entries.apiKeys[id.lowercased()] else { return false }
            return expiry.map { $0 > now } ?? true
        }
    }

    /// Adds a block; `tenant` is whose audit log records it (the operator tenant's, for admins).
    package func add(
        kind: Block.Kind, value: String, reason: String, expiresAt: Date?, actor: AuditEntry.Actor, tenant: TenantID,
        ip: String?, requestID: String?, now: Date
    ) async throws -> Block {
        let normalized = try Self.validate(kind: kind, value: value)
        let block = Block(
            id: UUID(), kind: kind, value: normalized, reason: reason, createdBy: actor.id ?? actor.kind,
            createdAt: now, expiresAt: expiresAt)
        try await database.write(tenant: tenant) { tx in
            try await tx.sql.raw(
                """
                INSERT INTO gateway_blocks (id, kind, value, reason, created_by, created_at, expires_at)
                VALUES (\(bind: block.id), \(bind: kind.rawValue), \(bind: normalized), \(bind: reason),
                        \(bind: block.createdBy), \(bind: now.epochMilliseconds), \(bind: expiresAt?.epochMilliseconds))
                """
            ).run()
            _ = try await AuditTrail().record(
                AuditEntry(
                    action: "gateway.block.added", actor: actor, targetType: "gateway_block",
                    targetID: block.id.uuidString.lowercased(), ip: ip, requestID: requestID,
                    details: ["kind": .string(kind.rawValue), "value": .string(normalized), "reason": .string(reason)]),
                in: tx, at: now)
        }
        try await refresh(now: now)
        return block
    }

    /// Removes a block; `false` when there was none with that id.
    package func remove(
        id: UUID, actor: AuditEntry.Actor, tenant: TenantID, ip: String?, requestID: String?, now: Date
    ) async throws -> Bool {
        let removed = try await database.write(tenant: tenant) { tx -> Bool in
            let rows = try await tx.sql.raw("DELETE FROM gateway_blocks WHERE id = \(bind: id) RETURNING value")
                .all()
            guard !rows.isEmpty else { return false }
            _ = try await AuditTrail().record(
                AuditEntry(
                    action: "gateway.block.removed", actor: actor, targetType: "gateway_block",
                    targetID: id.uuidString.lowercased(), ip: ip, requestID: requestID),
                in: tx, at: now)
            return true
        }
        try await refresh(now: now)
        return removed
    }

    /// Blocks in force, newest first.
    package func list(now: Date) async throws -> [Block] {
        let rows = try await database.systemRead { tx in
            try await tx.sql.raw(
                """
                SELECT id, kind, value, reason, created_by, created_at, expires_at FROM gateway_blocks
                WHERE expires_at IS NULL OR expires_at > \(bind: now.epochMilliseconds)
                ORDER BY created_at DESC
                """
            ).all()
        }
        return try rows.map { row in
            Block(
                id: try row.decodeUUID(column: "id"),
                kind: Block.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .ip,
                value: try row.decode(column: "value", as: String.self),
                reason: try row.decode(column: "reason", as: String.self),
                createdBy: try row.decode(column: "created_by", as: String.self),
                createdAt: Date(epochMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
                expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Date.init(epochMilliseconds:)))
        }
    }

    /// Reloads the blocks in force (and drops expired rows older than a day).
    package func refresh(now: Date) async throws {
        let blocks = try await list(now: now)
        var entries = Entries()
        for block in blocks {
            switch block.kind {
            case .apiKey: entries.apiKeys[block.value.lowercased()] = block.expiresAt
            case .ip:
                if let range = IPRange(block.value) { entries.ranges.append((range, block.expiresAt)) }
            }
        }
        current.withLock { $0 = entries }
    }

    /// Expired blocks are kept a day for the admin's view of what happened, then deleted.
    func prune(now: Date) async throws {
        let cutoff = now.addingTimeInterval(-86_400).epochMilliseconds
        try await database.system { tx in
            try await tx.sql.raw(
                "DELETE FROM gateway_blocks WHERE expires_at IS NOT NULL AND expires_at < \(bind: cutoff)"
            )
            .run()
        }
    }

    static func validate(kind: Block.Kind, value: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .ip:
            guard let range = IPRange(trimmed) else {
                throw DomainError.validation([
                    FieldIssue(field: "value", code: "invalid_value", message: "must be an IP address or CIDR range")
                ])
            }
            return range.description
        case .apiKey:
            guard !trimmed.isEmpty, trimmed.count <= 100 else {
                throw DomainError.validation([
                    FieldIssue(field: "value", code: "invalid_value", message: "must be an API key id")
                ])
            }
            // Principals carry key ids in lower case.
            return trimmed.lowercased()
        }
    }
}
