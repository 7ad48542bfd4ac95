import Foundation
import Hummingbird
import Kernel
import Logging
import Platform

/// The tenant's background jobs and dead-lettered events: list, retry or cancel a job, replay a dead event.
/// Only the tenant's own jobs and events are shown and touched (installation-wide jobs are the operator's,
/// through `inopsio jobs` and `inopsio events`).
struct OperationsRoutes: Sendable {
    let services: MessagingServices

    struct Items<T: Encodable>: Encodable {
        let data: [T]
    }

    var queue: JobQueue { JobQueue(database: services.database, handlers: [], logger: services.logger) }
    var backbone: EventBackbone { EventBackbone(database: services.database, consumers: [], logger: services.logger) }
    static let statuses = ["queued", "running", "succeeded", "failed", "cancelled"]

    func register(on routes: RouteRegistrar) {
        let base = MessagingAPI.base
        routes.get("\(base)/jobs") { request, context in
            try JSONResponse.make(Items(data: try await jobs(request, context)))
        }
        routes.post("\(base)/jobs/{job}/retry") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try await retry(request, context)
            return JSONResponse.noContent()
        }
        routes.post("\(base)/jobs/{job}/cancel") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try await cancel(request, context)
            return JSONResponse.noContent()
        }
        routes.get("\(base)/dead-letters") { request, context in
            try JSONResponse.make(Items(data: try await deadLetters(context)))
        }
        routes.post("\(base)/dead-letters/{event}/replay") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try await replay(request, context)
            return JSONResponse.noContent()
        }
    }

    func jobs(_ request: Request, _ context: AppRequestContext) async throws -> [JobRecord] {
        try context.require(.messagingOperationsRead)
        let tenant = try context.requireTenant()
        let status = request.query("status").flatMap { $0.isEmpty ? nil : $0 }
        if let status, !Self.statuses.contains(status) {
            throw Problem(status: .badRequest, detail: "status is one of \(Self.statuses.joined(separator: ", "))")
        }
        return try await queue.list(status: status, tenant: tenant, limit: 200)
    }

    func retry(_ request: Request, _ context: AppRequestContext) async throws {
        try context.require(.messagingOperationsWrite)
        let tenant = try context.requireTenant()
        let id = context.parameters.get("job") ?? ""
        guard try await queue.retry(id: id, tenant: tenant) else {
            throw DomainError.conflict("only a failed or cancelled job of yours can be retried")
        }
        try await services.audited(
            "messaging.job.retried", target: "job", id: { _ in id }, request: request, context: context
        ) { _ in }
    }

    func cancel(_ request: Request, _ context: AppRequestContext) async throws {
        try context.require(.messagingOperationsWrite)
        let tenant = try context.requireTenant()
        let id = context.parameters.get("job") ?? ""
        guard try await queue.cancel(id: id, tenant: tenant) else {
            throw DomainError.conflict("only a queued or running job of yours can be cancelled")
        }
        try await services.audited(
            "messaging.job.cancelled", target: "job", id: { _ in id }, request: request, context: context
        ) { _ in }
    }

    func deadLetters(_ context: AppRequestContext) async throws -> [DeadLetter] {
        try context.require(.messagingOperationsRead)
        return try await backbone.deadLetters(tenant: try context.requireTenant(), limit: 200)
    }

    func replay(_ request: Request, _ context: AppRequestContext) async throws {
        try context.require(.messagingOperationsWrite)
        let tenant = try context.requireTenant()
        let event = context.parameters.get("event") ?? ""
        guard try await backbone.replay(eventID: event, tenant: tenant) > 0 else {
            throw DomainError.notFound(entity: "dead letter")
        }
        try await services.audited(
            "messaging.dead_letter.replayed", target: "event", id: { _ in event }, request: request, context: context
        ) { _ in }
    }
}
