import Foundation
import Kernel
import Logging
import NIOCore
import NIOPosix
import Platform
import SQLKit
import ServiceLifecycle
import Synchronization

// The event backbone end to end in one process: producers commit events (one transaction each, as a domain change
// would), the relay hands them to one consumer group, its workers apply them (one row written per event, in the
// consumer's transaction). Prints one JSON line per measurement.
//
//   events-bench [--database-url postgres://...] [--redis-url redis://...] [--workers 4] [--producers 8] [--events 20000] [--rate 1000]
//                [--seconds 10]
//
// Measurements: "latency" (`--rate` events/s for `--seconds`: time from just before each commit to its event
// applied, p50/p99); "throughput" (every producer as fast as it can, `--events` in all, one per transaction:
// events/s from the first commit to the last event applied) and "throughput_batched" (50 per transaction);
// "delivery" (a backlog of `--events` handed out and applied) and "delivery_single" (the same with the consumer
// writing each event in a statement of its own). Without --database-url the database is a fresh SQLite file; with
// --redis-url events travel over Redis Streams (streams of their own, removed at the end). It runs on NIO's event
// loops as Swift's global executor, as the server does; BENCH_SWIFT_EXECUTOR=1 keeps Swift's own (to compare).

struct Options {
    var databaseURL: String?
    var redisURL: String?
    var workers = 4
    var producers = 8
    var events = 20_000
    var rate = 1_000
    var seconds = 10
    var pollMilliseconds = 100

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--database-url": databaseURL = value
            case "--redis-url": redisURL = value
            case "--workers": workers = Int(value) ?? workers
            case "--producers": producers = Int(value) ?? producers
            case "--events": events = Int(value) ?? events
            case "--rate": rate = Int(value) ?? rate
            case "--seconds": seconds = Int(value) ?? seconds
            case "--poll-ms": pollMilliseconds = Int(value) ?? pollMilliseconds
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

/// When each event was sent (microseconds since 1970, taken just before its transaction commits).
struct Sent: Codable {
    let micros: Int64
}

func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

/// Writes one row per event (the events handed out together in one statement) and notes when each was applied.
final class BenchConsumer: EventConsumer {
    let group = "bench"
    let eventTypes = ["bench.done"]
    let appliedAt = Mutex<[String: Int64]>([:])
    let applied = Atomic<Int>(0)

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            "INSERT INTO bench_effects (event_id, tenant_id) VALUES (\(bind: event.id), \(transaction.bind(try transaction.requireTenant())))"
        ).run()
        let now = nowMicros()
        appliedAt.withLock { $0[event.id] = now }
        applied.add(1, ordering: .relaxed)
    }

    /// Off: every event in a statement of its own, as a consumer without `handle(batch:)` does.
    let writesTogether = Atomic<Bool>(true)

    /// What the backbone hands out together, in one statement (as a consumer that can, would).
    func handle(batch events: [EventEnvelope], in transaction: Transaction) async throws {
        guard events.count > 1, writesTogether.load(ordering: .relaxed) else {
            for event in events { try await handle(event, in: transaction) }
            return
        }
        let tenant = transaction.bind(try transaction.requireTenant())
        var insert: SQLQueryString = "INSERT INTO bench_effects (event_id, tenant_id) VALUES "
        for (index, event) in events.enumerated() {
            if index > 0 { insert.appendLiteral(", ") }
            insert.appendInterpolation("(\(bind: event.id), \(tenant))" as SQLQueryString)
        }
        try await transaction.sql.raw(insert).run()
        let now = nowMicros()
        appliedAt.withLock { applied in for event in events { applied[event.id] = now } }
        applied.add(events.count, ordering: .relaxed)
    }
}

/// When each event's transaction had committed (noted by its producer right after).
let committedAt = Mutex<[String: Int64]>([:])

/// Milliseconds from commit to applied, per event (the applying transaction's own commit comes a little after).
func latencies(_ consumer: BenchConsumer) -> [Int64] {
    let applied = consumer.appliedAt.withLock { $0 }
    return committedAt.withLock { committed in
        committed.compactMap { id, at in applied[id].map { max(0, $0 - at) } }
    }.sorted()
}

let effects = Migration(module: "bench", number: 1, name: "create_bench_effects") { dialect in
    ["CREATE TABLE bench_effects (event_id TEXT NOT NULL, tenant_id \(dialect.uuidType) NOT NULL)"]
}

func percentile(_ sorted: [Int64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
    return Double(sorted[max(0, index)]) / 1_000
}

func append(_ database: any Database, tenant: TenantID, index: Int) async throws {
    let sent = nowMicros()
    let event = EventEnvelope(
        source: "/bench", type: "bench.done", subject: "a\(index % 1_000)", tenant: tenant, traceparent: nil,
        data: try JSONDocument(encoding: Sent(micros: sent)))
    try await database.write(tenant: tenant) { tx in
        try await Outbox.append(event, aggregateType: "bench", aggregateID: "a\(index % 1_000)", in: tx)
    }
    let committed = nowMicros()
    committedAt.withLock { $0[event.id] = committed }
}

/// Appends the events `indices` in one transaction.
func append(_ database: any Database, tenant: TenantID, indices: [Int]) async throws {
    let sent = nowMicros()
    let entries = try indices.map { index in
        Outbox.Entry(
            EventEnvelope(
                source: "/bench", type: "bench.done", subject: "a\(index % 1_000)", tenant: tenant, traceparent: nil,
                data: try JSONDocument(encoding: Sent(micros: sent))),
            aggregateType: "bench", aggregateID: "a\(index % 1_000)")
    }
    try await database.write(tenant: tenant) { tx in try await Outbox.append(entries, in: tx) }
    let committed = nowMicros()
    committedAt.withLock { committedAt in for entry in entries { committedAt[entry.event.id] = committed } }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The consumer's rows committed so far.
func committedEffects(_ database: any Database) async throws -> Int {
    try await database.readOutsideTransaction { tx in
        try await tx.sql.raw("SELECT COUNT(*) AS n FROM bench_effects").first()?.decode(column: "n", as: Int.self) ?? 0
    }
}

/// Runs the backbone's services while `body` runs, waits until `expected` events are applied, stops them.
func withRunningBackbone(
    _ backbone: EventBackbone, consumer: BenchConsumer, expected: @escaping @Sendable () -> Int,
    _ body: @Sendable () async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in backbone.services { group.addTask { try await service.run() } }
        try await body()
        let deadline = ContinuousClock.now + .seconds(600)
        while consumer.applied.load(ordering: .relaxed) < expected() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        // The consumer counts inside its transaction: done when the rows are committed too (stopping at the count
        // alone rolled back the last batch, whose leases the next measurement then waited out).
        while try await committedEffects(backbone.database) < expected() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        group.cancelAll()
    }
}

/// The whole run, on Swift concurrency's global executor made NIO's event loop group first, as `inopsio serve`
/// runs (see `InopsioMain`): the backbone measured as the server runs it.
func runBench() async throws {
    let options = Options(CommandLine.arguments)
    var configuration = InopsioConfiguration()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    configuration.dataDirectory = directory.path
    if let url = options.databaseURL { configuration.databaseURL = url }
    configuration.postgresPoolSize = options.workers + max(options.producers, 64) + 4
    let logger: Logger = {
        var logger = Logger(label: "events-bench")
        logger.logLevel = .warning
        return logger
    }()
    let resolved = configuration

    try await DatabaseConnector.withDatabase(configuration: resolved, logger: logger) { database in
        try await MigrationRunner(database: database, migrations: PlatformMigrations.all + [effects], logger: logger)
            .apply()
        let tenant = try await TenantStore(database: database).create(slug: "bench", name: "Bench").id
        let consumer = BenchConsumer()
        var settings = EventBackboneSettings()
        settings.workersPerGroup = options.workers
        settings.pollInterval = .milliseconds(options.pollMilliseconds)
        var redis: RedisEventTransport?
        if let url = options.redisURL {
            var transport = RedisEventTransport(
                client: try RedisClient(configuration: try RedisConfiguration(url: url), logger: logger))
            transport.prefix = "bench:\(UUID().uuidString.prefix(8))"
            redis = transport
        }
        let backbone = EventBackbone(
            database: database, consumers: [consumer], settings: settings, logger: logger, redis: redis)
        try await backbone.registerSubscriptions()
        let engine = database.dialect.rawValue + (redis == nil ? "" : "+redis")
        defer {
            if let redis {
                Task {
                    for partition in 0..<redis.partitions {
                        _ = try? await redis.client.send(["DEL", redis.stream(partition)])
                    }
                    await redis.client.shutdown()
                }
            }
        }

        // Latency at a fixed rate.
        let before = consumer.applied.load(ordering: .relaxed)
        let paced = options.rate * options.seconds
        try await withRunningBackbone(backbone, consumer: consumer, expected: { before + paced }) {
            let interval = Duration.seconds(1) / options.rate
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { sends in
                var inFlight = 0
                for index in 0..<paced {
                    let due = start + interval * index
                    if due > .now { try await Task.sleep(until: due) }
                    if inFlight >= 64 {
                        try await sends.next()
                        inFlight -= 1
                    }
                    sends.addTask { try await append(database, tenant: tenant, index: index) }
                    inFlight += 1
                }
                try await sends.waitForAll()
            }
        }
        let sortedLatencies = latencies(consumer)
        print(
            #"{"measurement":"latency","engine":"\#(engine)","rate":\#(options.rate),"events":\#(paced),"workers":\#(options.workers),"latency_p50_ms":\#(String(format: "%.1f", percentile(sortedLatencies, 0.5))),"latency_p99_ms":\#(String(format: "%.1f", percentile(sortedLatencies, 0.99))),"latency_max_ms":\#(String(format: "%.1f", percentile(sortedLatencies, 1.0)))}"#
        )
        // Throughput: all producers as fast as they can, each event in its own transaction; then the same with
        // each producer committing its events 50 to a transaction (as a bulk change or an import would): what the
        // backbone carries when the producers' commits are not what limits it.
        let total = options.events
        for (measurement, perTransaction) in [("throughput", 1), ("throughput_batched", 50)] {
            consumer.appliedAt.withLock { $0.removeAll() }
            committedAt.withLock { $0.removeAll() }
            let already = consumer.applied.load(ordering: .relaxed)
            let started = ContinuousClock.now
            try await withRunningBackbone(backbone, consumer: consumer, expected: { already + total }) {
                try await withThrowingTaskGroup(of: Void.self) { producers in
                    let share = total / options.producers
                    for producer in 0..<options.producers {
                        producers.addTask {
                            let count = producer == options.producers - 1 ? total - share * producer : share
                            for start in stride(from: 0, to: count, by: perTransaction) {
                                let first = producer * share + start
                                let indices = Array(first..<(first + min(perTransaction, count - start)))
                                if perTransaction == 1 {
                                    try await append(database, tenant: tenant, index: first)
                                } else {
                                    try await append(database, tenant: tenant, indices: indices)
                                }
                            }
                        }
                    }
                    try await producers.waitForAll()
                }
            }
            let seconds = (ContinuousClock.now - started).seconds
            let sorted = latencies(consumer)
            print(
                #"{"measurement":"\#(measurement)","engine":"\#(engine)","events":\#(total),"producers":\#(options.producers),"per_transaction":\#(perTransaction),"workers":\#(options.workers),"seconds":\#(String(format: "%.2f", seconds)),"events_per_second":\#(String(format: "%.0f", Double(total) / seconds)),"latency_p50_ms":\#(String(format: "%.1f", percentile(sorted, 0.5))),"latency_p99_ms":\#(String(format: "%.1f", percentile(sorted, 0.99)))}"#
            )
        }

        // Delivery alone: a backlog written beforehand (500 events per transaction), handed out and applied; then
        // again with the consumer writing each event in a statement of its own.
        for (measurement, together) in [("delivery", true), ("delivery_single", false)] {
            consumer.writesTogether.store(together, ordering: .relaxed)
            let backlog = options.events
            for start in stride(from: 0, to: backlog, by: 500) {
                let entries = try (start..<min(start + 500, backlog)).map { index in
                    Outbox.Entry(
                        EventEnvelope(
                            source: "/bench", type: "bench.done", subject: "a\(index % 1_000)", tenant: tenant,
                            traceparent: nil, data: try JSONDocument(encoding: Sent(micros: 0))),
                        aggregateType: "bench", aggregateID: "a\(index % 1_000)")
                }
                try await database.write(tenant: tenant) { tx in try await Outbox.append(entries, in: tx) }
            }
            let drained = consumer.applied.load(ordering: .relaxed)
            let drainStart = ContinuousClock.now
            try await withRunningBackbone(backbone, consumer: consumer, expected: { drained + backlog }) {}
            let drainElapsed = ContinuousClock.now - drainStart
            let drainSeconds =
                Double(drainElapsed.components.seconds) + Double(drainElapsed.components.attoseconds) / 1e18
            print(
                #"{"measurement":"\#(measurement)","engine":"\#(engine)","events":\#(backlog),"workers":\#(options.workers),"seconds":\#(String(format: "%.2f", drainSeconds)),"events_per_second":\#(String(format: "%.0f", Double(backlog) / drainSeconds))}"#
            )
        }
    }
    try? FileManager.default.removeItem(at: directory)
}

if ProcessInfo.processInfo.environment["BENCH_SWIFT_EXECUTOR"] == nil {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
Task {
    do {
        try await runBench()
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("bench-events: \(String(reflecting: error))\n".utf8))
        exit(1)
    }
}
dispatchMain()
