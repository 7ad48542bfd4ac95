import Testing

@testable import Platform

/// `redis_url` parsing: every part of `redis[s]://user:password@host:port/db`.
@Suite struct RedisConfigurationTests {
    @Test func fullURLIsParsed() throws {
        let configuration = try RedisConfiguration(url: "redis://app:s%40cret@cache.internal:6380/3")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "app")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == 3)
        #expect(configuration.tls == nil)
    }

    @Test func defaultsApplyToABareHost() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.username == nil && configuration.password == nil)
        #expect(configuration.connectTimeout == .seconds(1))
        #expect(configuration.commandTimeout == .seconds(2))
        #expect(configuration.poolSize == 8)
        #expect(configuration.protocolVersion == .resp3)
    }

    @Test func timeoutsCanBeSetInTheURL() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost/0?timeout_ms=1500")
        #expect(configuration.commandTimeout == .milliseconds(1500))
        #expect(configuration.connectTimeout == .milliseconds(1500))
        #expect(configuration.timeoutFromURL)
        #expect(try !RedisConfiguration(url: "redis://localhost").timeoutFromURL)
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://localhost?timeout_ms=soon") }
    }

    @Test func passwordWithoutUserMeansTheDefaultUser() throws {
        let configuration = try RedisConfiguration(url: "redis://:hunter2@127.0.0.1:7000/")
        #expect(configuration.username == nil)
        #expect(configuration.password == "hunter2")
        #expect(configuration.database == 0)
    }

    @Test func redissEnablesTLSAndIPv6HostsLoseTheirBrackets() throws {
        let configuration = try RedisConfiguration(url: "rediss://[::1]:6390")
        #expect(configuration.tls != nil)
        #expect(configuration.host == "::1")
    }

    @Test(arguments: ["http://localhost", "redis://", "redis://host/db1", "redis://host:0", "not a url"])
    func invalidURLsAreRejected(url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
    }

    @Test func scriptDigestIsTheSHA1OfItsSource() {
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
