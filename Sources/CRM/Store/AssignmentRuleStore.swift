import Foundation
import Kernel
import Platform
import SQLKit

struct AssignmentRuleStore: Sendable {
    func all(in tx: Transaction) async throws -> [AssignmentRule] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM crm_assignment_rules WHERE tenant_id = \(tx.bind(tenant)) ORDER BY position, created_at, id"
        ).all().map(Self.decode)
    }

    func find(_ id: UUID, in tx: Transaction) async throws -> AssignmentRule? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM crm_assignment_rules WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).first().map(Self.decode)
    }

    func insert(_ rule: AssignmentRule, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_assignment_rules (tenant_id, id, name, position, active, conditions, method, users,
                                              next_index, version, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(rule.id.rawValue)), \(bind: rule.name), \(bind: rule.position),
                    \(bind: rule.active ? 1 : 0), \(bind: try JSONDocument.text(rule.conditions)),
                    \(bind: rule.method.rawValue), \(bind: try JSONDocument.text(rule.users)), \(bind: rule.nextIndex),
                    \(bind: rule.version), \(bind: rule.createdAt.epochMilliseconds),
                    \(bind: rule.updatedAt.epochMilliseconds))
            """
        ).run()
    }

    func update(_ rule: AssignmentRule, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE crm_assignment_rules SET name = \(bind: rule.name), position = \(bind: rule.position),
              active = \(bind: rule.active ? 1 : 0), conditions = \(bind: try JSONDocument.text(rule.conditions)),
              method = \(bind: rule.method.rawValue), users = \(bind: try JSONDocument.text(rule.users)),
              next_index = \(bind: rule.nextIndex), version = \(bind: rule.version),
              updated_at = \(bind: rule.updatedAt.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(rule.id.rawValue)) AND version = \(bind: expectedVersion)
            RETURNING id
            """
        ).first() != nil
    }

    func delete(_ id: UUID, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_assignment_rules WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id))"
        ).run()
    }

    /// Takes the next user of round-robin rule `id` and moves it on, atomically (concurrent leads each get the
    /// next one: the row is locked until the transaction ends).
    func takeNext(of id: ID<AssignmentRule>, in tx: Transaction) async throws -> Int? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE crm_assignment_rules SET next_index = next_index + 1
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING next_index
            """
        ).first().map { try $0.decode(column: "next_index", as: Int.self) - 1 }
    }

    static func decode(_ row: any SQLRow) throws -> AssignmentRule {
        AssignmentRule(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            position: try row.decode(column: "position", as: Int.self),
            active: try row.decode(column: "active", as: Int.self) != 0,
            conditions: try row.json("conditions", as: [String: String].self),
            method: AssignmentRule.Method(rawValue: try row.decode(column: "method", as: String.self)) ?? .user,
            users: try row.json("users", as: [String].self),
            nextIndex: try row.decode(column: "next_index", as: Int.self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
