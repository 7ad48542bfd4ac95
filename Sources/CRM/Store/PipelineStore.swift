import Foundation
import Kernel
import Platform
import SQLKit

/// `crm_pipelines` and their `crm_stages`.
struct PipelineStore: Sendable {
    /// The tenant's pipelines with their stages, the default first, then by name.
    func list(in tx: Transaction) async throws -> [Pipeline] {
        let tenant = try tx.requireTenant()
        let rows = try await tx.sql.raw(
            "SELECT * FROM crm_pipelines WHERE tenant_id = \(tx.bind(tenant)) ORDER BY is_default DESC, name, id"
        ).all()
        let stages = try await tx.sql.raw(
            "SELECT * FROM crm_stages WHERE tenant_id = \(tx.bind(tenant)) ORDER BY position"
        ).all()
        var byPipeline: [UUID: [Pipeline.Stage]] = [:]
        for row in stages {
            byPipeline[try row.decodeUUID(column: "pipeline_id"), default: []].append(try Self.decodeStage(row))
        }
        return try rows.map { row in
            try Self.decode(row, stages: byPipeline[try row.decodeUUID(column: "id")] ?? [])
        }
    }

    func find(_ id: ID<Pipeline>, in tx: Transaction) async throws -> Pipeline? {
        let tenant = try tx.requireTenant()
        guard
            let row = try await tx.sql.raw(
                "SELECT * FROM crm_pipelines WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
            ).first()
        else { return nil }
        let stages = try await tx.sql.raw(
            """
            SELECT * FROM crm_stages WHERE tenant_id = \(tx.bind(tenant)) AND pipeline_id = \(tx.bind(id.rawValue))
            ORDER BY position
            """
        ).all().map(Self.decodeStage)
        return try Self.decode(row, stages: stages)
    }

    /// The pipeline stage `stage` belongs to, if it is one of the tenant's.
    func pipeline(of stage: ID<Pipeline.Stage>, in tx: Transaction) async throws -> ID<Pipeline>? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT pipeline_id FROM crm_stages WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(stage.rawValue))"
        ).first().map { ID(try $0.decodeUUID(column: "pipeline_id")) }
    }

    /// The tenant's default pipeline, made with the default stages if the tenant has no pipeline yet (under the
    /// tenant's pipeline lock, so two first requests at once make one).
    func ensureDefault(now: Date, in tx: Transaction) async throws -> Pipeline {
        var pipelines = try await list(in: tx)
        if let existing = pipelines.first(where: \.isDefault) ?? pipelines.first { return existing }
        try await tx.lockTenant("pipelines")
        pipelines = try await list(in: tx)
        if let existing = pipelines.first(where: \.isDefault) ?? pipelines.first { return existing }
        let pipeline = Pipeline(
            id: .generate(), name: "Sales", isDefault: true,
            stages: Pipeline.defaultStages.enumerated().map { index, stage in
                Pipeline.Stage(
                    id: .generate(), name: stage.name, probability: stage.probability, kind: stage.kind,
                    position: index)
            }, version: 1, createdAt: now, updatedAt: now)
        try await insert(pipeline, in: tx)
        return pipeline
    }

    func insert(_ pipeline: Pipeline, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        if pipeline.isDefault { try await clearDefault(except: pipeline.id, in: tx) }
        try await tx.sql.raw(
            """
            INSERT INTO crm_pipelines (tenant_id, id, name, is_default, version, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(pipeline.id.rawValue)), \(bind: pipeline.name),
                    \(bind: pipeline.isDefault ? 1 : 0), \(bind: pipeline.version),
                    \(bind: pipeline.createdAt.epochMilliseconds), \(bind: pipeline.updatedAt.epochMilliseconds))
            """
        ).run()
        for stage in pipeline.stages { try await insert(stage, of: pipeline.id, in: tx) }
    }

    /// Writes `pipeline` (name, default, stages: new ones inserted, kept ones renamed and moved, missing ones
    /// removed) over version `expectedVersion`; false when that is no longer the stored one.
    func update(_ pipeline: Pipeline, expectedVersion: Int, removing: [ID<Pipeline.Stage>], in tx: Transaction)
        async throws -> Bool
    {
        let tenant = try tx.requireTenant()
        if pipeline.isDefault { try await clearDefault(except: pipeline.id, in: tx) }
        guard
            try await tx.sql.raw(
                """
                UPDATE crm_pipelines SET name = \(bind: pipeline.name), is_default = \(bind: pipeline.isDefault ? 1 : 0),
                    version = \(bind: pipeline.version), updated_at = \(bind: pipeline.updatedAt.epochMilliseconds)
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(pipeline.id.rawValue))
                  AND version = \(bind: expectedVersion)
                RETURNING id
                """
            ).first() != nil
        else { return false }
        for stage in removing {
            try await tx.sql.raw(
                "DELETE FROM crm_stages WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(stage.rawValue))"
            ).run()
        }
        for stage in pipeline.stages {
            let updated = try await tx.sql.raw(
                """
                UPDATE crm_stages SET name = \(bind: stage.name), probability = \(bind: stage.probability),
                    position = \(bind: stage.position)
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(stage.id.rawValue))
                RETURNING id
                """
            ).first()
            if updated == nil { try await insert(stage, of: pipeline.id, in: tx) }
        }
        return true
    }

    func delete(_ id: ID<Pipeline>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            "DELETE FROM crm_stages WHERE tenant_id = \(tx.bind(tenant)) AND pipeline_id = \(tx.bind(id.rawValue))"
        ).run()
        try await tx.sql.raw(
            "DELETE FROM crm_pipelines WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).run()
    }

    /// How many deals are in each of `stages`.
    func dealCounts(stages: [ID<Pipeline.Stage>], in tx: Transaction) async throws -> [UUID: Int] {
        guard !stages.isEmpty else { return [:] }
        let tenant = try tx.requireTenant()
        var counts: [UUID: Int] = [:]
        for row in try await tx.sql.raw(
            """
            SELECT stage_id, COUNT(*) AS deals FROM crm_deals WHERE tenant_id = \(tx.bind(tenant))
              AND stage_id IN (\(SQLList(stages.map { tx.bind($0.rawValue) }))) GROUP BY stage_id
            """
        ).all() {
            counts[try row.decodeUUID(column: "stage_id")] = try row.decode(column: "deals", as: Int.self)
        }
        return counts
    }

    /// The old default is no longer (its version grows, so its ETag changes).
    private func clearDefault(except pipeline: ID<Pipeline>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE crm_pipelines SET is_default = 0, version = version + 1
            WHERE tenant_id = \(tx.bind(tenant)) AND is_default = 1 AND id <> \(tx.bind(pipeline.rawValue))
            """
        ).run()
    }

    private func insert(_ stage: Pipeline.Stage, of pipeline: ID<Pipeline>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO crm_stages (tenant_id, id, pipeline_id, name, probability, kind, position)
            VALUES (\(tx.bind(tenant)), \(tx.bind(stage.id.rawValue)), \(tx.bind(pipeline.rawValue)),
                    \(bind: stage.name), \(bind: stage.probability), \(bind: stage.kind.rawValue), \(bind: stage.position))
            """
        ).run()
    }

    static func decode(_ row: any SQLRow, stages: [Pipeline.Stage]) throws -> Pipeline {
        Pipeline(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            isDefault: try row.decode(column: "is_default", as: Int.self) == 1, stages: stages,
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }

    static func decodeStage(_ row: any SQLRow) throws -> Pipeline.Stage {
        Pipeline.Stage(
            id: ID(try row.decodeUUID(column: "id")), name: try row.decode(column: "name", as: String.self),
            probability: try row.decode(column: "probability", as: Int.self),
            kind: Pipeline.Stage.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .open,
            position: try row.decode(column: "position", as: Int.self))
    }
}
