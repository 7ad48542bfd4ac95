import TestSupport
import Testing

@testable import Platform

/// Connection setup against private servers: passwords, ACL users, the RESP2 fallback.
@Suite(.enabled(if: RedisTestEnvironment.privateServersAvailable, "needs /usr/bin/redis-server"))
struct RedisConnectionSetupTests {
    static let aclUser = [
        "--user", "limiter", "on", ">limiter-pass", "~rl:*", "+@all", "--requirepass", "root-pass",
    ]

    @Test func defaultUserPasswordAuthenticates() async throws {
        try await withRedisServer(arguments: Self.aclUser) { server in
            try await withRedisClient(url: "redis://:root-pass@127.0.0.1:\(server.port)") { redis in
                try await redis.ping()
                #expect(try await redis.send(["ACL", "WHOAMI"]).string == "default")
            }
        }
    }

    @Test(arguments: [RedisConfiguration.ProtocolVersion.resp3, .resp2])
    func aclUserAuthenticatesOnEitherProtocol(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withRedisServer(arguments: Self.aclUser) { server in
            try await withRedisClient(
                url: "redis://limiter:limiter-pass@127.0.0.1:\(server.port)",
                configure: { $0.protocolVersion = version }
            ) { redis async throws in
                #expect(try await redis.send(["ACL", "WHOAMI"]).string == "limiter")
                #expect(try await redis.send(["SET", "rl:x", "1"]).string == "OK")
                await #expect(throws: RedisError.self) { try await redis.send(["SET", "other", "1"]) }
            }
        }
    }

    @Test(arguments: [RedisConfiguration.ProtocolVersion.resp3, .resp2])
    func wrongPasswordIsAnAuthenticationFailure(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withRedisServer(arguments: Self.aclUser) { server in
            try await withRedisClient(
                url: "redis://limiter:wrong@127.0.0.1:\(server.port)", configure: { $0.protocolVersion = version }
            ) { redis in
                do {
                    try await redis.ping()
                    Issue.record("a wrong password must not connect")
                } catch RedisError.authenticationFailed(let message) {
                    #expect(message.hasPrefix("WRONGPASS"))
                }
            }
        }
    }

    @Test func missingPasswordIsAnAuthenticationFailure() async throws {
        try await withRedisServer(arguments: ["--requirepass", "root-pass"]) { server in
            try await withRedisClient(url: server.url) { redis in
                let error = await #expect(throws: RedisError.self) { try await redis.ping() }
                guard case .authenticationFailed(let message) = error else {
                    Issue.record("unexpected \(String(describing: error))")
                    return
                }
                #expect(message.hasPrefix("NOAUTH"))
            }
        }
    }

    @Test func serverWithoutHelloFallsBackToRESP2() async throws {
        // Renaming HELLO away makes this Redis answer it like a pre-6 server: "ERR unknown command".
        try await withRedisServer(arguments: ["--rename-command", "HELLO", "", "--requirepass", "pw"]) { server in
            try await withRedisClient(url: "redis://:pw@127.0.0.1:\(server.port)/2") { redis in
                try await redis.send(["HSET", "h", "a", "1"])
                #expect(try await redis.send(["HGETALL", "h"]) == .array([.bulk("a"), .bulk("1")]))
                #expect(try await redis.send(["CLIENT", "INFO"]).string?.contains(" db=2 ") == true)
            }
        }
    }

    @Test func refusedConnectionIsATypedError() async throws {
        let server = try await RedisTestServer.start()
        let url = server.url
        await server.stop()
        try await withRedisClient(url: url) { redis in
            let error = await #expect(throws: RedisError.self) { try await redis.ping() }
            guard case .connectionRefused = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
        }
    }
}
