import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import TestSupport
import Testing

/// What only the Redis Streams transport has (the rest of its behaviour is held by `EventBackboneTests`, which
/// runs on it too): entries a relay wrote twice, a reader that died holding entries, and trimming the streams to
/// what every group acknowledged. Against a real Redis, on SQLite and PostgreSQL.
@Suite(.enabled(if: TestEnvironment.redisURL != nil || TestEnvironment.isCI, "needs INOPSIO_TEST_REDIS_URL"))
struct RedisEventTransportTests {
    typealias Base = EventBackboneTests

    @Test(arguments: TestBackend.available)
    func eachEventOnceDespiteRepeatedEntriesAndAWorkerThatDiedHoldingSome(_ backend: TestBackend) async throws {
        let consumers: [any EventConsumer] = [
            Base.RecordingConsumer(group: "alpha"), Base.RecordingConsumer(group: "beta"),
        ]
        try await Base.withBackbone(.init(backend: backend, redis: true), consumers: consumers) {
            backbone, database, tenant in
            let redis = try #require(backbone.redis)
            let ids = try await Base.append(database, tenant: tenant, aggregates: (0..<12).map { "a\($0)" }, count: 10)
            while try await backbone.relayBatch(lookFirst: false) > 0 {}
            // A worker of alpha reads entries and dies before applying or acknowledging them.
            for partition in 0..<redis.partitions {
                _ = try await redis.client.send([
                    "XREADGROUP", "GROUP", "alpha", "dead-worker", "COUNT", "7", "STREAMS", redis.stream(partition),
                    ">",
                ])
            }
            // A relay that died after writing to Redis writes some entries a second time.
            let payloads = try await database.systemRead { tx in
                try await tx.sql.raw(
                    "SELECT id, aggregateid, type, tenant_id, payload FROM event_outbox ORDER BY seq LIMIT 15"
                )
                .all().map {
                    (
                        try $0.decode(column: "id", as: String.self),
                        try $0.decode(column: "aggregateid", as: String.self),
                        try $0.decode(column: "payload", as: String.self)
                    )
                }
            }
            for (id, aggregate, payload) in payloads {
                _ = try await redis.client.send([
                    "XADD", redis.stream(redis.partition(of: "thing:" + aggregate)), "*", "id", id, "type",
                    "test.thing.changed", "tenant", tenant.description, "at", "thing", "ai", aggregate, "payload",
                    payload,
                ])
            }
            try await Base.drain(backbone, groups: ["alpha", "beta"])
            let effects = try await Base.effects(database, tenant: tenant)
            for group in ["alpha", "beta"] {
                let applied = effects.filter { $0.group == group }
                #expect(applied.map(\.eventID).sorted() == ids.sorted())
                // In order per aggregate.
                for aggregate in Set(applied.map(\.aggregate)) {
                    #expect(applied.filter { $0.aggregate == aggregate }.map(\.position) == Array(0..<10))
                }
            }
            // Everything acknowledged, so cleanup trims the streams to (almost) nothing.
            try await backbone.cleanUp()
            var left = 0
            for partition in 0..<redis.partitions {
                left += try #require(try await redis.client.send(["XLEN", redis.stream(partition)]).int)
            }
            #expect(left <= redis.partitions)
        }
    }
}
