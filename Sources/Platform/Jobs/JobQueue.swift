import Foundation
import Kernel
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// Background work on the same database as everything else (platform migration 4, table `jobs`): enqueued in the
/// caller's transaction, run by any process's `JobQueue` workers, highest priority first (1 critical ... 4 low),
/// then oldest; with delays, a uniqueness key (one queued or running job per key), a time limit per run, retries
/// with the event backbone's growing delays, and cancellation (of a queued job at once, of a running one at its
/// next check, within a second).
/// Cron schedules are `JobScheduler`'s.
package enum Jobs {
    package static let migration = Migration(module: "platform", number: 4, name: "create_jobs") { dialect in
        [
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                payload \(dialect.jsonType) NOT NULL,
                tenant_id \(dialect.uuidType),
                priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
                status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
                run_at \(dialect.timestampType) NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                timeout_ms BIGINT NOT NULL,
                unique_key TEXT,
                lease_until \(dialect.timestampType),
                leased_by TEXT,
                cancel_requested INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                created_at \(dialect.timestampType) NOT NULL,
                finished_at \(dialect.timestampType)
            )
            """,
            "CREATE INDEX jobs_ready ON jobs (status, priority, run_at)",
            """
            CREATE UNIQUE INDEX jobs_unique_active ON jobs (unique_key)
            WHERE unique_key IS NOT NULL AND status IN ('queued', 'running')
            """,
        ]
    }

    /// A job to enqueue.
    package struct Request: Sendable {
        package var name: String
        package var payload: JSONDocument
        package var tenant: TenantID?
        /// 1 (critical) to 4 (low).
        package var priority = 3
        package var delay: Duration = .zero
        /// At most one queued or running job per key; enqueueing another while one is returns `nil`.
        package var uniqueKey: String?
        package var timeout: Duration = .seconds(300)
        package var maxAttempts = 5

        package init(name: String, payload: JSONDocument, tenant: TenantID? = nil) {
            self.name = name
            self.payload = payload
            self.tenant = tenant
        }
    }

    /// Enqueues `request` in `transaction` (it runs only if the transaction commits). Returns the job's id, or
    /// `nil` when a job with the same unique key is already queued or running.
    @discardableResult
    package static func enqueue(_ request: Request, in transaction: Transaction, now: Date = Date()) async throws
        -> String?
    {
        guard (1...4).contains(request.priority) else { throw JobError.invalid("priority must be 1 to 4") }
        guard !request.name.isEmpty else { throw JobError.invalid("a job needs a name") }
        guard (1...50).contains(request.maxAttempts) else { throw JobError.invalid("max attempts must be 1 to 50") }
        guard request.timeout > .zero else { throw JobError.invalid("the timeout must be positive") }
        let id = UUID.v7().lowercasedString
        let at = now.epochMilliseconds
        let payload: SQLQueryString =
            transaction.dialect == .postgres
            ? "CAST(\(bind: request.payload.text) AS JSONB)" : "\(bind: request.payload.text)"
        let tenant: any SQLExpression = request.tenant.map { transaction.bind($0) } ?? SQLLiteral.null
        let conflict: SQLQueryString =
            request.uniqueKey == nil
            ? ""
            : " ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('queued', 'running') DO NOTHING"
        let inserted = try await transaction.sql.raw(
            """
            INSERT INTO jobs (id, name, payload, tenant_id, priority, status, run_at, max_attempts, timeout_ms,
                unique_key, created_at)
            VALUES (\(bind: id), \(bind: request.name), \(payload), \(tenant), \(bind: request.priority), 'queued',
                \(bind: at + request.delay.milliseconds), \(bind: request.maxAttempts),
                \(bind: request.timeout.milliseconds), \(bind: request.uniqueKey), \(bind: at))\(conflict)
            RETURNING id
            """
        ).first()
        return inserted == nil ? nil : id
    }
}

package enum JobError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case timedOut(Duration)
    case cancelled

    package var description: String {
        switch self {
        case .invalid(let reason): "invalid job: \(reason)"
        case .timedOut(let limit): "timed out after \(limit)"
        case .cancelled: "cancelled"
        }
    }
}

/// Runs jobs of one name.
package protocol JobHandler: Sendable {
    var name: String { get }
    /// Runs the job; throwing counts as a failed try. Long work should check `Task.isCancelled` (a timeout or a
    /// cancellation cancels the task).
    func run(payload: JSONDocument, tenant: TenantID?) async throws
}

/// One job as `inopsio jobs list` shows it.
package struct JobRecord: Sendable, Equatable, Encodable {
    package let id: String
    package let name: String
    package let tenant: TenantID?
    package let priority: Int
    package let status: String
    package let runAt: Date
    package let attempts: Int
    package let maxAttempts: Int
    package let uniqueKey: String?
    package let lastError: String?

    /// As `inopsio jobs list` prints it and the API answers it.
    enum CodingKeys: String, CodingKey {
        case id, name, tenant, priority, status, attempts
        case runAt = "run_at"
        case maxAttempts = "max_attempts"
        case uniqueKey = "unique_key"
        case lastError = "last_error"
    }
}

/// Claims and runs jobs with this process's handlers.
package final class JobQueue: Sendable {
    package let database: any Database
    let handlers: [String: any JobHandler]
    let logger: Logger
    let settings: EventBackboneSettings

    /// `settings`: the backbone's retry delays, poll interval and worker count are the jobs' too.
    package init(
        database: any Database, handlers: [any JobHandler], settings: EventBackboneSettings = .init(), logger: Logger
    ) {
        self.database = database
        self.handlers = Dictionary(handlers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.settings = settings
        self.logger = logger
    }

    private struct Claimed {
        let id: String
        let name: String
        let payload: String
        let tenant: TenantID?
        let attempts: Int
        let maxAttempts: Int
        let timeout: Duration
    }

    /// Claims the next ready job this process can run and runs it. Returns false when there was none.
    @discardableResult
    package func runNext(worker: String) async throws -> Bool {
        guard !handlers.isEmpty, let job = try await claim(worker: worker) else { return false }
        await run(job, worker: worker)
        return true
    }

    private func claim(worker: String) async throws -> Claimed? {
        let now = Date().epochMilliseconds
        let names = Array(handlers.keys)
        // Idle workers look with a read first: on SQLite a claim takes the one write lock.
        let due = try await database.readOutsideTransaction { tx in
            try await tx.sql.raw(
                """
                SELECT 1 AS due FROM jobs
                WHERE name IN (\(binds: names))
                  AND ((status = 'queued' AND run_at <= \(bind: now)) OR (status = 'running' AND lease_until < \(bind: now)))
                LIMIT 1
                """
            ).first()
        }
        guard due != nil else { return nil }
        return try await database.system { tx -> Claimed? in
            let lock: SQLQueryString = tx.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            let payload: SQLQueryString = tx.dialect == .postgres ? "payload::text" : "payload"
            // Jobs whose worker stopped or hung (the lease ran out): a cancelled one is done, one out of tries
            // has failed; neither is claimed again.
            try await tx.sql.raw(
                """
                UPDATE jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END,
                    finished_at = \(bind: now), lease_until = NULL, leased_by = NULL,
                    last_error = CASE WHEN cancel_requested = 1 THEN last_error
                        ELSE 'its worker stopped or hung on each of its tries (the lease ran out)' END
                WHERE status = 'running' AND lease_until < \(bind: now)
                  AND (cancel_requested = 1 OR attempts >= max_attempts)
                """
            ).run()
            // The lease covers the time limit and a margin; a process that died loses its job after it.
            guard
                let row = try await tx.sql.raw(
                    """
                    UPDATE jobs SET status = 'running', attempts = attempts + 1, leased_by = \(bind: worker),
                        lease_until = \(bind: now) + timeout_ms + 30000
                    WHERE id = (
                        SELECT id FROM jobs
                        WHERE name IN (\(binds: names))
                          AND ((status = 'queued' AND run_at <= \(bind: now))
                               OR (status = 'running' AND lease_until < \(bind: now)))
                        ORDER BY priority, run_at, id LIMIT 1\(lock))
                    RETURNING id, name, \(payload) AS payload, tenant_id, attempts, max_attempts, timeout_ms
                    """
                ).first()
            else { return nil }
            return Claimed(
                id: try row.decode(column: "id", as: String.self),
                name: try row.decode(column: "name", as: String.self),
                payload: try row.decode(column: "payload", as: String.self),
                tenant: try row.decodeOptionalUUID(column: "tenant_id").map { TenantID($0) },
                attempts: try row.decode(column: "attempts", as: Int.self),
                maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
                timeout: .milliseconds(try row.decode(column: "timeout_ms", as: Int64.self)))
        }
    }

    private enum Outcome: Sendable {
        case succeeded
        case failed(String)
        case cancelled
        /// The worker was stopped (shutdown): the try does not count.
        case stopped
    }

    private func run(_ job: Claimed, worker: String) async {
        guard let handler = handlers[job.name] else { return }
        let payload = JSONDocument(unchecked: job.payload)
        let database = self.database
        let outcome: Outcome = await withTaskGroup(of: Outcome?.self) { group in
            if Task.isCancelled { return .stopped }
            group.addTask {
                do {
                    try await handler.run(payload: payload, tenant: job.tenant)
                    return .succeeded
                } catch {
                    return Task.isCancelled ? nil : .failed(String(describing: error))
                }
            }
            group.addTask {
                try? await Task.sleep(for: job.timeout)
                return Task.isCancelled ? nil : .failed(JobError.timedOut(job.timeout).description)
            }
            group.addTask {
                // Every half second: cancellation asked by `cancel(id:)`? And the lease moves on, so that a job
                // still running (a handler slow to notice its timeout) is not run by a second worker meanwhile.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(500))
                    if Task.isCancelled { break }
                    let requested = try? await database.system { tx in
                        try await tx.sql.raw(
                            """
                            UPDATE jobs SET lease_until = \(bind: Date().epochMilliseconds) + timeout_ms + 30000
                            WHERE id = \(bind: job.id) AND leased_by = \(bind: worker)
                            RETURNING cancel_requested
                            """
                        ).first()?.decode(column: "cancel_requested", as: Int.self)
                    }
                    if requested == 1 { return .cancelled }
                }
                return nil
            }
            var result: Outcome = .stopped
            while let next = await group.next() {
                if let next {
                    result = next
                    break
                }
            }
            group.cancelAll()
            return result
        }
        await finish(job, outcome: outcome, worker: worker)
    }

    private func finish(_ job: Claimed, outcome: Outcome, worker: String) async {
        let now = Date().epochMilliseconds
        let statement: SQLQueryString
        switch outcome {
        case .succeeded:
            statement =
                "UPDATE jobs SET status = 'succeeded', finished_at = \(bind: now), lease_until = NULL, leased_by = NULL, last_error = NULL WHERE id = \(bind: job.id) AND leased_by = \(bind: worker)"
        case .stopped:
            statement =
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_until = NULL, leased_by = NULL WHERE id = \(bind: job.id) AND leased_by = \(bind: worker)"
        case .cancelled:
            statement =
                "UPDATE jobs SET status = 'cancelled', finished_at = \(bind: now), lease_until = NULL, leased_by = NULL WHERE id = \(bind: job.id) AND leased_by = \(bind: worker)"
        case .failed(let error):
            let message = String(error.prefix(2_000))
            if job.attempts >= job.maxAttempts {
                statement =
                    "UPDATE jobs SET status = 'failed', finished_at = \(bind: now), lease_until = NULL, leased_by = NULL, last_error = \(bind: message) WHERE id = \(bind: job.id) AND leased_by = \(bind: worker)"
            } else {
                let retryAt = now + settings.retryDelay(afterAttempt: job.attempts).milliseconds
                // Cancelled meanwhile: it stays cancelled rather than queued again.
                statement =
                    "UPDATE jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END, run_at = \(bind: retryAt), lease_until = NULL, leased_by = NULL, last_error = \(bind: message), finished_at = CASE WHEN cancel_requested = 1 THEN \(bind: now) ELSE NULL END WHERE id = \(bind: job.id) AND leased_by = \(bind: worker)"
            }
            logger.warning(
                "job failed",
                metadata: [
                    "job.id": "\(job.id)", "job.name": "\(job.name)", "job.attempt": "\(job.attempts)",
                    "error.message": "\(message)",
                ])
        }
        do {
            // In a task of its own: recorded even when the worker is being cancelled.
            let database = self.database
            try await Task { try await database.system { tx in try await tx.sql.raw(statement).run() } }.value
        } catch {
            logger.error(
                "job outcome not recorded; the job runs again after its lease",
                metadata: ["job.id": "\(job.id)", "error.message": "\(String(reflecting: error))"])
        }
    }

    // MARK: Administration

    /// Jobs, newest first, optionally of one status and of one tenant.
    package func list(status: String? = nil, tenant: TenantID? = nil, limit: Int = 100) async throws -> [JobRecord] {
        try await database.systemRead { tx in
            var filter: SQLQueryString = " WHERE 1 = 1"
            if let status { filter.appendInterpolation(" AND status = \(bind: status)" as SQLQueryString) }
            if let tenant { filter.appendInterpolation(" AND tenant_id = \(tx.bind(tenant))" as SQLQueryString) }
            return try await tx.sql.raw(
                """
                SELECT id, name, tenant_id, priority, status, run_at, attempts, max_attempts, unique_key, last_error
                FROM jobs\(filter) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
                """
            ).all().map { row in
                JobRecord(
                    id: try row.decode(column: "id", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    tenant: try row.decodeOptionalUUID(column: "tenant_id").map { TenantID($0) },
                    priority: try row.decode(column: "priority", as: Int.self),
                    status: try row.decode(column: "status", as: String.self),
                    runAt: Date(epochMilliseconds: try row.decode(column: "run_at", as: Int64.self)),
                    attempts: try row.decode(column: "attempts", as: Int.self),
                    maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
                    uniqueKey: try row.decode(column: "unique_key", as: String?.self),
                    lastError: try row.decode(column: "last_error", as: String?.self))
            }
        }
    }

    /// Queues a failed or cancelled job again with a fresh set of tries. False when it is not failed or cancelled,
    /// or when another job with its unique key is queued or running.
    @discardableResult
    package func retry(id: String, tenant: TenantID? = nil) async throws -> Bool {
        let now = Date().epochMilliseconds
        return try await database.system { tx in
            let owner: SQLQueryString = tenant.map { " AND tenant_id = \(tx.bind($0))" } ?? ""
            return try await tx.sql.raw(
                """
                UPDATE jobs SET status = 'queued', attempts = 0, run_at = \(bind: now), finished_at = NULL,
                    cancel_requested = 0
                WHERE id = \(bind: id) AND status IN ('failed', 'cancelled')\(owner)
                  AND NOT EXISTS (
                      SELECT 1 FROM jobs other
                      WHERE other.unique_key = jobs.unique_key AND other.id <> jobs.id
                        AND other.status IN ('queued', 'running'))
                RETURNING id
                """
            ).first() != nil
        }
    }

    /// Cancels a queued job at once, a running one at its next check. False when it is neither.
    @discardableResult
    package func cancel(id: String, tenant: TenantID? = nil) async throws -> Bool {
        let now = Date().epochMilliseconds
        return try await database.system { tx in
            let owner: SQLQueryString = tenant.map { " AND tenant_id = \(tx.bind($0))" } ?? ""
            if try await tx.sql.raw(
                """
                UPDATE jobs SET status = 'cancelled', finished_at = \(bind: now)
                WHERE id = \(bind: id) AND status = 'queued'\(owner) RETURNING id
                """
            ).first() != nil {
                return true
            }
            return try await tx.sql.raw(
                """
                UPDATE jobs SET cancel_requested = 1 WHERE id = \(bind: id) AND status = 'running'\(owner)
                RETURNING id
                """
            ).first() != nil
        }
    }

    /// This process's job workers.
    package var services: [any Service] { handlers.isEmpty ? [] : [JobWorkerService(queue: self)] }
}

struct JobWorkerService: Service {
    let queue: JobQueue

    func run() async throws {
        let instance = UUID().uuidString.prefix(8).lowercased()
        await withTaskGroup(of: Void.self) { workers in
            for index in 0..<max(1, queue.settings.workersPerGroup) {
                workers.addTask {
                    let worker = "jobs/\(instance)/\(index)"
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        var ran = false
                        do {
                            ran = try await queue.runNext(worker: worker)
                        } catch is CancellationError {
                            return
                        } catch {
                            queue.logger.warning(
                                "job claim failed; retrying",
                                metadata: ["error.message": "\(String(reflecting: error))"])
                        }
                        if !ran { try? await Task.sleep(for: queue.settings.pollInterval) }
                    }
                }
            }
        }
    }
}
