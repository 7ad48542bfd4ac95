import NIOCore
import ServiceLifecycle
import TestSupport
import Testing

@testable import Platform

/// Commands against the Redis that `scripts/test` starts (`INOPSIO_TEST_REDIS_URL`); every key is unique per test.
@Suite(.enabled(if: RedisTestEnvironment.sharedServerAvailable, "needs INOPSIO_TEST_REDIS_URL (scripts/test)"))
struct RedisClientTests {
    @Test func setGetIncrDelRoundTrip() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let key = RedisTestEnvironment.key("counter")
            #expect(try await redis.send(["SET", key, "41"]).string == "OK")
            #expect(try await redis.send(["GET", key]).string == "41")
            #expect(try await redis.send(["INCR", key]).int == 42)
            #expect(try await redis.send(["DEL", key]).int == 1)
            #expect(try await redis.send(["GET", key]).isNull)
            try await redis.ping()
        }
    }

    @Test func binaryValuesRoundTripUnchanged() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let key = ByteBuffer(bytes: Array(RedisTestEnvironment.key("bin").utf8) + [0, 255])
            let value = ByteBuffer(bytes: (0...255).map { UInt8($0) } + Array("\r\n$-1\r\n".utf8))
            try await redis.send([ByteBuffer(string: "SET"), key, value])
            let reply = try await redis.send([ByteBuffer(string: "GET"), key])
            #expect(reply.buffer == value)
            #expect(try await redis.send([ByteBuffer(string: "STRLEN"), key]).int == value.readableBytes)
            try await redis.send([ByteBuffer(string: "DEL"), key])
        }
    }

    @Test func errorReplyThrowsTheServerMessage() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let key = RedisTestEnvironment.key("list")
            try await redis.send(["RPUSH", key, "a"])
            await #expect(throws: RedisError.self) { try await redis.send(["INCR", key]) }
            do {
                try await redis.send(["INCR", key])
            } catch let error as RedisError {
                #expect(error.serverErrorCode == "WRONGTYPE")
            }
            try await redis.send(["DEL", key])
        }
    }

    @Test func pipelineOfAThousandCommandsKeepsOrderAndErrorReplies() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let key = RedisTestEnvironment.key("pipeline")
            var commands = (1...1000).map { _ in ["INCR", key] }
            commands.insert(["HGET", key, "x"], at: 500)
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 1001)
            #expect(replies[0..<500].map(\.int) == (1...500).map { $0 })
            #expect(replies[500].errorMessage?.hasPrefix("WRONGTYPE") == true)
            #expect(replies[501...].map(\.int) == (501...1000).map { $0 })
            try await redis.send(["DEL", key])
        }
    }

    @Test func manyTasksShareThePool() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL(), configure: { $0.poolSize = 4 }) {
            redis in
            let key = RedisTestEnvironment.key("shared")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        for round in 0..<20 {
                            let own = "\(key):\(task)"
                            try await redis.send(["SET", own, "\(task)-\(round)"])
                            #expect(try await redis.send(["GET", own]).string == "\(task)-\(round)")
                            try await redis.send(["INCR", key])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await redis.send(["GET", key]).int == 1000)
            try await redis.send(["DEL", key] + (0..<50).map { "\(key):\($0)" })
        }
    }

    @Test func evalSHALoadsTheScriptAfterScriptFlush() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) .. ':' .. ARGV[2]")
            let key = RedisTestEnvironment.key("script")
            try await redis.send(["SCRIPT", "FLUSH"])
            #expect(try await redis.evalSHA(script, keys: [key], arguments: ["5", "a"]).string == "5:a")
            #expect(try await redis.send(["SCRIPT", "EXISTS", script.sha1]).array == [.integer(1)])
            #expect(try await redis.evalSHA(script, keys: [key], arguments: ["2", "b"]).string == "7:b")
            try await redis.send(["DEL", key])
        }
    }

    @Test func scriptErrorsAreServerErrors() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let script = RedisScript("return redis.error_reply('LIMITED too many')")
            await #expect(throws: RedisError.server("LIMITED too many")) { try await redis.evalSHA(script) }
        }
    }

    @Test func resp3RepliesAreTyped() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let key = RedisTestEnvironment.key("hash")
            try await redis.send(["HSET", key, "a", "1", "b", "2"])
            let reply = try await redis.send(["HGETALL", key])
            guard case .map(let entries) = reply else {
                Issue.record("HGETALL over RESP3 should be a map, got \(reply)")
                return
            }
            #expect(Set(entries.map { "\($0.key.string ?? "")=\($0.value.string ?? "")" }) == ["a=1", "b=2"])
            try await redis.send(["SET", key + ":f", "1.5"])
            #expect(try await redis.send(["INCRBYFLOAT", key + ":f", "1"]).double == 2.5)
            #expect(try await redis.send(["SISMEMBER", key + ":none", "x"]).bool == false)
            try await redis.send(["DEL", key, key + ":f"])
        }
    }

    @Test func resp2CanBeForcedAndReadsTheSame() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL(), configure: { $0.protocolVersion = .resp2 })
        {
            redis in
            let key = RedisTestEnvironment.key("hash2")
            try await redis.send(["HSET", key, "a", "1"])
            let reply = try await redis.send(["HGETALL", key])
            #expect(reply == .array([.bulk("a"), .bulk("1")]))
            #expect(reply.map == [RESPMapEntry(key: .bulk("a"), value: .bulk("1"))])
            #expect(try await redis.send(["HELLO"]).map?.first { $0.key.string == "proto" }?.value.int == 2)
            try await redis.send(["DEL", key])
        }
    }

    @Test func databaseFromTheURLIsSelected() async throws {
        let url = try RedisTestEnvironment.sharedURL() + "/5"
        let key = RedisTestEnvironment.key("db")
        try await withRedisClient(url: url) { redis in
            try await redis.send(["SET", key, "in five"])
            #expect(try await redis.send(["CLIENT", "INFO"]).string?.contains(" db=5 ") == true)
        }
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis async throws in
            #expect(try await redis.send(["EXISTS", key]).int == 0)
            #expect(try await redis.send(["SELECT", "5"]).string == "OK")
        }
        try await withRedisClient(url: url) { redis in try await redis.send(["DEL", key]) }
    }

    @Test func commandWithoutReplyInTimeFailsAndTheNextCommandSucceeds() async throws {
        try await withRedisClient(
            url: try RedisTestEnvironment.sharedURL(),
            configure: {
                $0.poolSize = 1
                // Long enough for the next command's new connection on a loaded machine (300 ms was not, once, in
                // a clean-clone run), far shorter than the blocking pop.
                $0.commandTimeout = .seconds(2)
            }
        ) { redis async throws in
            let key = RedisTestEnvironment.key("blocked")
            await #expect(throws: RedisError.commandTimeout) { try await redis.send(["BLPOP", key, "30"]) }
            #expect(try await redis.send(["ECHO", "after"]).string == "after")
        }
    }

    @Test func publishedMessagesReachTheSubscriber() async throws {
        try await withRedisClient(url: try RedisTestEnvironment.sharedURL()) { redis in
            let channel = RedisTestEnvironment.key("channel")
            let subscription = try await redis.subscribe(channels: [channel, channel + ":other"])
            #expect(try await redis.publish("hello", to: channel) == 1)
            #expect(try await redis.publish(ByteBuffer(bytes: [0, 1, 2]), to: channel + ":other") == 1)
            var iterator = subscription.makeAsyncIterator()
            #expect(
                try await iterator.next() == RedisPubSubMessage(channel: channel, payload: ByteBuffer(string: "hello")))
            let second = try await iterator.next()
            #expect(second?.channel == channel + ":other")
            #expect(second?.payload == ByteBuffer(bytes: [0, 1, 2]))
            await subscription.close()
            #expect(try await iterator.next() == nil)
            #expect(try await redis.publish("nobody", to: channel) == 0)
        }
    }

    @Test func shutdownEndsSubscriptionsAndRefusesCommands() async throws {
        var configuration = try RedisConfiguration(url: try RedisTestEnvironment.sharedURL())
        // Generous, as elsewhere in these tests: the whole suite shares two cores.
        configuration.commandTimeout = .seconds(10)
        configuration.connectTimeout = .seconds(5)
        let redis = try RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        try await redis.ping()
        let subscription = try await redis.subscribe(channels: [RedisTestEnvironment.key("bye")])
        await redis.shutdown()
        var iterator = subscription.makeAsyncIterator()
        #expect(try await iterator.next() == nil)
        await #expect(throws: RedisError.poolShutDown) { try await redis.ping() }
        await redis.shutdown()
    }

    @Test func gracefulShutdownOfTheServiceGroupClosesThePool() async throws {
        let configuration = try RedisConfiguration(url: try RedisTestEnvironment.sharedURL())
        let redis = try RedisClient(configuration: configuration, logger: TestEnvironment.logger)
        try await redis.ping()
        let services = ServiceGroup(services: [redis], logger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        await #expect(throws: RedisError.poolShutDown) { try await redis.ping() }
    }
}
