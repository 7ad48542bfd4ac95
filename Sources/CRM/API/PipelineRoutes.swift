import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit

/// `/api/v1/crm/pipelines`: the tenant's sales pipelines with their ordered, renamable stages, and each one's board
/// (deals per stage with their totals). A tenant's first pipeline ("Sales", with the default stages) is made when
/// it is first needed. Changing pipelines needs `crm.admin:manage`; reading them `crm.deals:read`.
struct PipelineRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/pipelines"

    struct StageBody: Decodable, Sendable {
        let id: String?
        let name: String
        let probability: Int
        let kind: String?
    }

    struct PipelineBody: JSONRequestBody, Sendable {
        let name: String?
        let isDefault: Bool?
        let stages: [StageBody]?
        static let fieldNames: Set<String> = ["name", "is_default", "stages"]
        enum CodingKeys: String, CodingKey {
            case name, stages
            case isDefault = "is_default"
        }
    }

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { _, context in try await list(context) }
        routes.post(RouterPath(Self.path)) { request, context in try await create(request, context) }
        routes.get("\(Self.path)/{id}") { _, context in try await get(context) }
        routes.patch("\(Self.path)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(Self.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
        routes.get("\(Self.path)/{id}/board") { request, context in try await board(request, context) }
    }

    func list(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmDealsRead)
        let tenant = try context.requireTenant()
        let now = services.clock.now().storedPrecision
        // The first read makes the tenant's default pipeline, so the list is never empty.
        let pipelines = try await services.database.write(tenant: tenant) { tx in
            _ = try await PipelineStore().ensureDefault(now: now, in: tx)
            return try await PipelineStore().list(in: tx)
        }
        return try JSONResponse.make(Page(data: pipelines, nextCursor: nil))
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmDealsRead)
        let tenant = try context.requireTenant()
        let id = try ID<Pipeline>.path(context, entity: "pipeline")
        guard
            let pipeline = try await services.database.read(
                tenant: tenant, { tx in try await PipelineStore().find(id, in: tx) })
        else { throw DomainError.notFound(entity: "pipeline") }
        return try JSONResponse.make(pipeline, headers: [.eTag: "W/\"\(pipeline.version)\""])
    }

    /// The stages of a body: names 1 to 100 characters, probabilities 0 to 100, kinds open, won or lost.
    static func stages(_ bodies: [StageBody], into validation: inout Validation)
        -> [(id: String?, name: String, probability: Int, kind: Pipeline.Stage.Kind?)]
    {
        bodies.enumerated().map { index, body in
            let name = Check.text(body.name, field: "stages[\(index)].name", max: 100, into: &validation)
            if !(0...100).contains(body.probability) {
                validation.add(
                    FieldIssue(field: "stages[\(index)].probability", code: "out_of_range", message: "0 to 100"))
            }
            var kind: Pipeline.Stage.Kind?
            if let text = body.kind {
                kind = Pipeline.Stage.Kind(rawValue: text)
                if kind == nil {
                    validation.add(
                        FieldIssue(field: "stages[\(index)].kind", code: "invalid_value", message: "open, won or lost"))
                }
            }
            return (body.id, name, body.probability, kind)
        }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let body = try await JSONBody.decode(PipelineBody.self, from: request, context: context)
        var validation = Validation()
        let name = Check.text(body.name ?? "", field: "name", max: 100, into: &validation)
        let given = body.stages.map { Self.stages($0, into: &validation) }
        let stages =
            given?.map { (name: $0.name, probability: $0.probability, kind: $0.kind ?? .open) }
            ?? Pipeline.defaultStages
        if validation.issues.isEmpty {
            for problem in Pipeline.problems(of: stages) {
                validation.add(FieldIssue(field: "stages", code: "invalid_value", message: problem))
            }
        }
        try validation.check()
        let now = services.clock.now().storedPrecision
        let pipeline = Pipeline(
            id: .generate(), name: name, isDefault: body.isDefault ?? false,
            stages: stages.enumerated().map { index, stage in
                Pipeline.Stage(
                    id: .generate(), name: stage.name, probability: stage.probability, kind: stage.kind, position: index
                )
            }, version: 1, createdAt: now, updatedAt: now)
        try await services.database.audited(
            "crm.pipeline.created", target: "pipeline", id: { _ in pipeline.id.description }, at: now,
            request: request, context: context
        ) { tx in
            try await tx.lockTenant("pipelines")
            try await PipelineStore().insert(pipeline, in: tx)
            try await CRMEvents.append(
                "crm.pipeline.created", pipeline, entity: "pipeline", id: pipeline.id.rawValue,
                traceparent: context.trace?.header, in: tx)
        }
        await services.changed(try context.requireTenant())
        return try JSONResponse.created(pipeline, location: "\(Self.path)/\(pipeline.id)")
    }

    /// Renames, makes default, or gives the stages anew: stages with an `id` keep it (renamed, moved, their kind
    /// fixed), stages without one are added, stages left out are removed (409 while deals are in them).
    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let id = try ID<Pipeline>.path(context, entity: "pipeline")
        let body = try await JSONBody.decode(PipelineBody.self, from: request, context: context)
        var validation = Validation()
        let name = body.name.map { Check.text($0, field: "name", max: 100, into: &validation) }
        let given = body.stages.map { Self.stages($0, into: &validation) }
        try validation.check()
        let now = services.clock.now().storedPrecision
        let pipeline = try await services.database.audited(
            "crm.pipeline.updated", target: "pipeline", id: { $0.id.description }, at: now, request: request,
            context: context
        ) { tx -> Pipeline in
            // Deals moving into a stage hold the shared lock: a stage is not removed under them.
            try await tx.lockTenant("pipelines")
            guard let stored = try await PipelineStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "pipeline")
            }
            try request.checkIfMatch("W/\"\(stored.version)\"")
            var pipeline = stored
            if let name { pipeline.name = name }
            if body.isDefault == true { pipeline.isDefault = true }
            if body.isDefault == false && stored.isDefault {
                throw DomainError.conflict("make another pipeline the default instead")
            }
            var removing: [ID<Pipeline.Stage>] = []
            if let given {
                var issues: [FieldIssue] = []
                var stages: [Pipeline.Stage] = []
                for (index, entry) in given.enumerated() {
                    if let text = entry.id {
                        guard let existing = ID<Pipeline.Stage>(text).flatMap(stored.stage),
                            !stages.contains(where: { $0.id == existing.id })
                        else {
                            issues.append(
                                FieldIssue(
                                    field: "stages[\(index)].id", code: "invalid_value",
                                    message: "a stage of this pipeline, each once"))
                            continue
                        }
                        if let kind = entry.kind, kind != existing.kind {
                            issues.append(
                                FieldIssue(
                                    field: "stages[\(index)].kind", code: "immutable",
                                    message: "a stage keeps its kind"))
                        }
                        stages.append(
                            Pipeline.Stage(
                                id: existing.id, name: entry.name, probability: entry.probability, kind: existing.kind,
                                position: index))
                    } else {
                        stages.append(
                            Pipeline.Stage(
                                id: .generate(), name: entry.name, probability: entry.probability,
                                kind: entry.kind ?? .open, position: index))
                    }
                }
                for problem in Pipeline.problems(of: stages.map { ($0.name, $0.probability, $0.kind) }) {
                    issues.append(FieldIssue(field: "stages", code: "invalid_value", message: problem))
                }
                if !issues.isEmpty { throw DomainError.validation(issues) }
                removing = stored.stages.map(\.id).filter { old in !stages.contains { $0.id == old } }
                let inUse = try await PipelineStore().dealCounts(stages: removing, in: tx)
                if !inUse.isEmpty {
                    throw DomainError.conflict("move the deals out of a stage before removing it")
                }
                pipeline.stages = stages
            }
            guard pipeline != stored else { return stored }
            pipeline.version = stored.version + 1
            pipeline.updatedAt = now
            guard
                try await PipelineStore().update(
                    pipeline, expectedVersion: stored.version, removing: removing, in: tx)
            else { throw DomainError.conflict("the pipeline was changed at the same time; retry") }
            try await CRMEvents.append(
                "crm.pipeline.updated", pipeline, entity: "pipeline", id: pipeline.id.rawValue,
                traceparent: context.trace?.header, in: tx)
            return pipeline
        }
        await services.changed(try context.requireTenant())
        return try JSONResponse.make(pipeline, headers: [.eTag: "W/\"\(pipeline.version)\""])
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmAdmin)
        let id = try ID<Pipeline>.path(context, entity: "pipeline")
        try await services.database.audited(
            "crm.pipeline.deleted", target: "pipeline", id: { _ in id.description }, at: services.clock.now(),
            request: request, context: context
        ) { tx in
            try await tx.lockTenant("pipelines")
            guard let stored = try await PipelineStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "pipeline")
            }
            if stored.isDefault { throw DomainError.conflict("the default pipeline cannot be deleted") }
            if !(try await PipelineStore().dealCounts(stages: stored.stages.map(\.id), in: tx)).isEmpty {
                throw DomainError.conflict("the pipeline still has deals")
            }
            try await PipelineStore().delete(id, in: tx)
            try await CRMEvents.append(
                "crm.pipeline.deleted", ["id": id.description], entity: "pipeline", id: id.rawValue,
                traceparent: context.trace?.header, in: tx)
        }
        await services.changed(try context.requireTenant())
        return JSONResponse.noContent()
    }

    /// One stage of a board.
    struct BoardColumn: Encodable, Sendable {
        let stage: Pipeline.Stage
        let count: Int
        /// The sum of the stage's deal values, one per currency.
        let total: [Money]
        /// The same, each value times its deal's probability (rounded down to the minor unit).
        let weighted: [Money]
        /// The stage's most recently changed deals (at most `limit`).
        let deals: [Deal]
    }

    /// `GET /pipelines/{id}/board[?limit=N]`: per stage the number of deals, their total and weighted values, and
    /// the `limit` (default 50) most recently changed deals. Totals are summed by the database over every deal. Read
    /// through the CRM cache (`CRMCache`).
    func board(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmDealsRead)
        let tenant = try context.requireTenant()
        let id = try ID<Pipeline>.path(context, entity: "pipeline")
        let limit = try request.pageLimit()
        let database = services.database
        let text = try await services.cache.value(tenant: tenant, key: "board|\(id)|\(limit)") {
            let columns = try await database.read(tenant: tenant) { tx -> [BoardColumn]? in
                guard let pipeline = try await PipelineStore().find(id, in: tx) else { return nil }
                let sums = try await tx.sql.raw(
                    """
                    SELECT stage_id, currency, COUNT(*) AS deals, \(unsafeRaw: AnalyticsStore.sum("amount_minor", tx.dialect)) AS total,
                           \(unsafeRaw: AnalyticsStore.sum("amount_minor * probability / 100", tx.dialect)) AS weighted
                    FROM crm_deals WHERE tenant_id = \(tx.bind(tenant)) AND pipeline_id = \(tx.bind(id.rawValue))
                    GROUP BY stage_id, currency ORDER BY currency
                    """
                ).all()
                var columns: [BoardColumn] = []
                for stage in pipeline.ordered {
                    let rows = try sums.filter { try $0.decodeUUID(column: "stage_id") == stage.id.rawValue }
                    func money(_ column: String) throws -> [Money] {
                        try rows.compactMap { row in
                            guard let currency = CurrencyCode(try row.decode(column: "currency", as: String.self))
                            else {
                                return nil
                            }
                            return Money(
                                amountMinor: try row.decode(column: column, as: Int64.self), currency: currency)
                        }
                    }
                    var query = RecordQuery(.deal)
                    query.stageID = stage.id.rawValue
                    query.sort = .updatedAt
                    columns.append(
                        BoardColumn(
                            stage: stage,
                            count: try rows.reduce(0) { $0 + (try $1.decode(column: "deals", as: Int.self)) },
                            total: try money("total"), weighted: try money("weighted"),
                            deals: try await RecordStore<Deal>().list(query, limit: limit, in: tx)))
                }
                return columns
            }
            guard let columns else { throw DomainError.notFound(entity: "pipeline") }
            return try JSONResponse.text(["stages": columns])
        }
        return JSONResponse.json(text)
    }
}
