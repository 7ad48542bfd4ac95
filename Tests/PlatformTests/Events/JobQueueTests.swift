import Foundation
import Kernel
import Platform
import SQLKit
import Synchronization
import TestSupport
import Testing

/// Jobs on SQLite and PostgreSQL: order by priority then age, delays, unique keys, time limits, retries and
/// cancellation.
@Suite struct JobQueueTests {
    struct Payload: Codable {
        let label: String
    }

    /// Records the labels it ran; `behaviour` picks what a label does.
    final class Recorder: JobHandler {
        let name = "record"
        let ran = Mutex<[String]>([])
        let started = Mutex<[String]>([])
        let failuresLeft = Mutex<[String: Int]>([:])

        func run(payload: JSONDocument, tenant: TenantID?) async throws {
            let label = try JSONDecoder().decode(Payload.self, from: Data(payload.text.utf8)).label
            started.withLock { $0.append(label) }
            if label.hasPrefix("fail-late") {
                try await Task.sleep(for: .milliseconds(200))
                throw JobError.invalid("failed late")
            }
            if label.hasPrefix("slow") {
                // Runs until cancelled (by its time limit or by `cancel`).
                while !Task.isCancelled { try await Task.sleep(for: .milliseconds(20)) }
                throw CancellationError()
            }
            let fail = failuresLeft.withLock { left -> Bool in
                guard let count = left[label], count > 0 else { return false }
                left[label] = count - 1
                return true
            }
            if fail { throw JobError.invalid("planned failure of \(label)") }
            ran.withLock { $0.append(label) }
        }
    }

    static func settings() -> EventBackboneSettings {
        var settings = EventBackboneSettings()
        settings.firstRetryDelay = .milliseconds(5)
        settings.maxRetryDelay = .milliseconds(20)
        settings.pollInterval = .milliseconds(10)
        return settings
    }

    @discardableResult
    static func enqueue(
        _ database: any Database, _ label: String, priority: Int = 3, delay: Duration = .zero,
        uniqueKey: String? = nil, timeout: Duration = .seconds(30), maxAttempts: Int = 3
    ) async throws -> String? {
        var request = Jobs.Request(name: "record", payload: try JSONDocument(encoding: Payload(label: label)))
        request.priority = priority
        request.delay = delay
        request.uniqueKey = uniqueKey
        request.timeout = timeout
        request.maxAttempts = maxAttempts
        let ready = request
        return try await database.system { tx in try await Jobs.enqueue(ready, in: tx) }
    }

    /// Runs jobs until none is queued or running (delayed ones included), for at most `patience`.
    static func runAll(_ queue: JobQueue, patience: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + patience
        while ContinuousClock.now < deadline {
            if try await queue.runNext(worker: "w") { continue }
            let open = try await queue.list(status: "queued").count + queue.list(status: "running").count
            if open == 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test(arguments: TestBackend.available)
    func jobsRunByPriorityThenAgeAfterTheirDelay(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            try await Self.enqueue(database, "low", priority: 4)
            try await Self.enqueue(database, "normal-1")
            let later = try #require(try await Self.enqueue(database, "later", priority: 1, delay: .seconds(3_600)))
            try await Self.enqueue(database, "critical", priority: 1)
            try await Self.enqueue(database, "normal-2")
            while try await queue.runNext(worker: "w") {}
            // The delayed job waits for its time, whatever its priority.
            #expect(recorder.ran.withLock { $0 } == ["critical", "normal-1", "normal-2", "low"])
            #expect(try await queue.list(status: "queued").map(\.id) == [later])
            // Its time come (moved instead of waited for), it runs.
            try await database.system { tx in
                try await tx.sql.raw("UPDATE jobs SET run_at = 0 WHERE id = \(bind: later)").run()
            }
            try await Self.runAll(queue)
            #expect(recorder.ran.withLock { $0 } == ["critical", "normal-1", "normal-2", "low", "later"])
            #expect(try await queue.list(status: "succeeded").count == 5)
        }
    }

    @Test(arguments: TestBackend.available)
    func aUniqueKeyAllowsOneQueuedOrRunningJob(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            let first = try await Self.enqueue(database, "a", uniqueKey: "report:1")
            #expect(first != nil)
            #expect(try await Self.enqueue(database, "b", uniqueKey: "report:1") == nil)
            #expect(try await Self.enqueue(database, "c", uniqueKey: "report:2") != nil)
            try await Self.runAll(queue)
            // A cancelled job is not queued again by hand while another holds its key.
            let cancelled = try #require(try await Self.enqueue(database, "e", delay: .seconds(3_600), uniqueKey: "k"))
            #expect(try await queue.cancel(id: cancelled))
            let holder = try #require(try await Self.enqueue(database, "f", delay: .seconds(3_600), uniqueKey: "k"))
            #expect(try await !queue.retry(id: cancelled))
            #expect(try await queue.cancel(id: holder))
            #expect(try await queue.retry(id: cancelled))
            #expect(try await queue.cancel(id: cancelled))
            // Once the first has run, the key is free again.
            #expect(try await Self.enqueue(database, "d", uniqueKey: "report:1") != nil)
            try await Self.runAll(queue)
            #expect(recorder.ran.withLock { $0 }.sorted() == ["a", "c", "d"])
        }
    }

    @Test(arguments: TestBackend.available)
    func failuresAreRetriedThenTheJobFailsAndCanBeRetriedByHand(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            recorder.failuresLeft.withLock { $0 = ["flaky": 2, "broken": 10] }
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            try await Self.enqueue(database, "flaky", maxAttempts: 3)
            let broken = try #require(try await Self.enqueue(database, "broken", maxAttempts: 2))
            try await Self.runAll(queue)
            #expect(recorder.ran.withLock { $0 } == ["flaky"])
            let failed = try await queue.list(status: "failed")
            #expect(failed.map(\.id) == [broken])
            #expect(failed.first?.attempts == 2)
            #expect(failed.first?.lastError?.contains("planned failure of broken") == true)
            recorder.failuresLeft.withLock { $0 = [:] }
            #expect(try await queue.retry(id: broken))
            #expect(try await !queue.retry(id: broken))
            try await Self.runAll(queue)
            #expect(recorder.ran.withLock { $0 } == ["flaky", "broken"])
        }
    }

    @Test(arguments: TestBackend.available)
    func aJobOverItsTimeLimitIsStoppedAndCountsAsAFailedTry(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            let id = try #require(
                try await Self.enqueue(database, "slow-1", timeout: .milliseconds(100), maxAttempts: 1))
            #expect(try await queue.runNext(worker: "w"))
            let job = try await queue.list().first { $0.id == id }
            #expect(job?.status == "failed")
            #expect(job?.lastError?.contains("timed out") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func queuedJobsAreCancelledAtOnceAndRunningOnesAtTheirNextCheck(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            let waiting = try #require(try await Self.enqueue(database, "never", delay: .seconds(60)))
            #expect(try await queue.cancel(id: waiting))
            let running = try #require(try await Self.enqueue(database, "slow-2", timeout: .seconds(60)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await queue.runNext(worker: "w") }
                // Cancelled once it has started.
                while !recorder.started.withLock({ $0.contains("slow-2") }) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(try await queue.cancel(id: running))
                try await group.waitForAll()
            }
            let jobs = try await queue.list()
            #expect(jobs.first { $0.id == waiting }?.status == "cancelled")
            #expect(jobs.first { $0.id == running }?.status == "cancelled")
            #expect(try await !queue.cancel(id: running))
            #expect(recorder.ran.withLock { $0 }.isEmpty)
        }
    }

    /// Cancelled while running, then failing before the cancellation was noticed: it ends cancelled, not stuck
    /// or queued again.
    @Test(arguments: TestBackend.available)
    func aJobCancelledWhileItFailsEndsCancelled(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            let id = try #require(try await Self.enqueue(database, "fail-late", maxAttempts: 3))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await queue.runNext(worker: "w") }
                while !recorder.started.withLock({ $0.contains("fail-late") }) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(try await queue.cancel(id: id))
                try await group.waitForAll()
            }
            #expect(try await queue.list().first?.status == "cancelled")
            #expect(try await !queue.runNext(worker: "w"))
        }
    }

    /// A job whose worker died on its last try (the lease ran out) is failed, not claimed again.
    @Test(arguments: TestBackend.available)
    func aJobWhoseWorkerKeepsDyingFails(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let recorder = Recorder()
            let queue = JobQueue(
                database: database, handlers: [recorder], settings: Self.settings(), logger: TestEnvironment.logger)
            let id = try #require(try await Self.enqueue(database, "crashy", maxAttempts: 2))
            try await database.system { tx in
                try await tx.sql.raw(
                    """
                    UPDATE jobs SET status = 'running', attempts = 2, leased_by = 'gone', lease_until = 0
                    WHERE id = \(bind: id)
                    """
                ).run()
            }
            #expect(try await !queue.runNext(worker: "w"))
            let job = try await queue.list().first
            #expect(job?.status == "failed")
            #expect(job?.lastError?.contains("lease ran out") == true)
            #expect(recorder.started.withLock { $0 }.isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func invalidRequestsAreRefused(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            await #expect(throws: JobError.invalid("priority must be 1 to 4")) {
                try await Self.enqueue(database, "x", priority: 5)
            }
        }
    }
}
