import Foundation
import Kernel
import Platform

/// The tenant's background jobs and dead-lettered events: list, retry or cancel a job, replay a dead event.
/// Only the tenant's own jobs and events are shown and touched (installation-wide jobs are the operator's,
/// through `inopsio jobs` and `inopsio events`).
struct OperationsService: Sendable {
    let services: MessagingServices

    var queue: JobQueue { JobQueue(database: services.database, handlers: [], logger: services.logger) }
    var backbone: EventBackbone { EventBackbone(database: services.database, consumers: [], logger: services.logger) }
    static let statuses = ["queued", "running", "succeeded", "failed", "cancelled"]

    /// The latest 200 jobs, of one status or all (`status` nil or empty).
    func jobs(status: String?, by caller: Caller) async throws -> [JobRecord] {
        try caller.require(.messagingOperationsRead)
        let status = status.flatMap { $0.isEmpty ? nil : $0 }
        if let status, !Self.statuses.contains(status) {
            throw Problem(status: .badRequest, detail: "status is one of \(Self.statuses.joined(separator: ", "))")
        }
        return try await queue.list(status: status, tenant: caller.tenant, limit: 200)
    }

    func retry(job id: String, by caller: Caller) async throws {
        try caller.require(.messagingOperationsWrite)
        guard try await queue.retry(id: id, tenant: caller.tenant) else {
            throw DomainError.conflict("only a failed or cancelled job of yours can be retried")
        }
        try await record("messaging.job.retried", target: "job", id: id, by: caller)
    }

    func cancel(job id: String, by caller: Caller) async throws {
        try caller.require(.messagingOperationsWrite)
        guard try await queue.cancel(id: id, tenant: caller.tenant) else {
            throw DomainError.conflict("only a queued or running job of yours can be cancelled")
        }
        try await record("messaging.job.cancelled", target: "job", id: id, by: caller)
    }

    func deadLetters(by caller: Caller) async throws -> [DeadLetter] {
        try caller.require(.messagingOperationsRead)
        return try await backbone.deadLetters(tenant: caller.tenant, limit: 200)
    }

    func replay(event: String, by caller: Caller) async throws {
        try caller.require(.messagingOperationsWrite)
        guard try await backbone.replay(eventID: event, tenant: caller.tenant) > 0 else {
            throw DomainError.notFound(entity: "dead letter")
        }
        try await record("messaging.dead_letter.replayed", target: "event", id: event, by: caller)
    }

    /// The audit record of an operation the job queue or the backbone has done (in a transaction of its own).
    private func record(_ action: String, target: String, id: String, by caller: Caller) async throws {
        try await services.database.audited(
            action, target: target, id: { _ in id }, at: services.clock.now(), by: caller
        ) { _ in }
    }
}
