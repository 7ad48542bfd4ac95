import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One TCP (or TLS) connection to Redis, set up and ready for commands; any number of tasks may pipeline on it.
package final class RedisConnection: Sendable {
    let channel: any Channel
    private let failure: RedisConnectionFailure
    /// The protocol the setup negotiated (RESP3 unless the server refused `HELLO 3` or RESP2 was configured).
    package let protocolVersion: RedisConfiguration.ProtocolVersion

    private init(
        channel: any Channel, failure: RedisConnectionFailure, protocolVersion: RedisConfiguration.ProtocolVersion
    ) {
        self.channel = channel
        self.failure = failure
        self.protocolVersion = protocolVersion
    }

    /// Whether the connection can take commands; a broken one is replaced by the pool.
    package var isActive: Bool { channel.isActive && failure.error == nil }

    /// Sends commands in one write and returns their replies in order; error replies are returned, not thrown.
    func send(_ commands: [[String]]) async throws -> [RESPValue] {
        var payload = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { RESPEncoder.writeCommand(command, into: &payload) }
        return try await send(payload: payload, replies: commands.count)
    }

    /// Sends one command with binary arguments; an error reply is returned, not thrown.
    func send(_ arguments: [ByteBuffer]) async throws -> RESPValue {
        var payload = channel.allocator.buffer(capacity: 64)
        RESPEncoder.writeCommand(arguments, into: &payload)
        return try await send(payload: payload, replies: 1)[0]
    }

    /// Sends one command; an error reply is returned, not thrown.
    func send(_ arguments: [String]) async throws -> RESPValue {
        try await send([arguments])[0]
    }

    private func send(payload: ByteBuffer, replies: Int) async throws -> [RESPValue] {
        let eventLoop = channel.eventLoop
        let promises = (0..<replies).map { _ in eventLoop.makePromise(of: RESPValue.self) }
        // A write to an already closed channel never reaches the handler, so the promises are failed here too.
        let failure = self.failure
        channel.writeAndFlush(RedisRequest(payload: payload, promises: promises)).whenFailure { error in
            let cause = failure.error ?? RedisCommandHandler.redisError(error)
            for promise in promises { promise.fail(cause) }
        }
        var values: [RESPValue] = []
        values.reserveCapacity(replies)
        for promise in promises { values.append(try await promise.futureResult.get()) }
        return values
    }

    /// Writes without expecting replies (`SUBSCRIBE` on a subscriber connection answers through the push queue).
    func sendUnanswered(_ arguments: [String]) async throws {
        var payload = channel.allocator.buffer(capacity: 64)
        RESPEncoder.writeCommand(arguments, into: &payload)
        do {
            try await channel.writeAndFlush(RedisRequest(payload: payload, promises: [])).get()
        } catch {
            throw failure.error ?? RedisCommandHandler.redisError(error)
        }
    }

    /// Routes every later inbound value to `queue`; only for a connection dedicated to one subscription.
    func enterSubscriberMode(_ queue: RedisPushQueue) async throws {
        do {
            try await channel.triggerUserOutboundEvent(RedisConnectionEvent.enterSubscriberMode(queue)).get()
        } catch {
            throw failure.error ?? RedisCommandHandler.redisError(error)
        }
    }

    /// Lets outstanding commands finish (each is bounded by the command timeout), then closes.
    func closeGracefully() async {
        channel.triggerUserOutboundEvent(RedisConnectionEvent.closeWhenIdle, promise: nil)
        try? await channel.closeFuture.get()
    }

    /// Closes at once; outstanding commands fail with `connectionClosed`.
    func close() {
        channel.close(promise: nil)
    }

    /// Connects, then negotiates the protocol, authenticates and selects the database.
    static func connect(
        configuration: RedisConfiguration, tlsContext: NIOSSLContext?, eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> RedisConnection {
        let failure = RedisConnectionFailure()
        let channel = try await openChannel(
            configuration: configuration, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, failure: failure,
            logger: logger)
        do {
            let setup = RedisConnection(channel: channel, failure: failure, protocolVersion: .resp2)
            let version = try await handshake(setup, configuration: configuration)
            return RedisConnection(channel: channel, failure: failure, protocolVersion: version)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    private static func openChannel(
        configuration: RedisConfiguration, tlsContext: NIOSSLContext?, eventLoopGroup: any EventLoopGroup,
        failure: RedisConnectionFailure, logger: Logger
    ) async throws -> any Channel {
        let serverName = sniName(for: configuration.host)
        let commandTimeout = TimeAmount(configuration.commandTimeout)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext {
                        try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    try sync.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try sync.addHandler(
                        RedisCommandHandler(commandTimeout: commandTimeout, logger: logger, failure: failure))
                }
            }
        do {
            return try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch let error as ChannelError {
            if case .connectTimeout = error { throw RedisError.connectTimeout }
            throw RedisError.connectionRefused(String(describing: error))
        } catch {
            let mapped = RedisCommandHandler.redisError(error)
            if case .tls = mapped { throw mapped }
            throw RedisError.connectionRefused(String(describing: error))
        }
    }

    /// `HELLO 3` first; on an error reply (servers before Redis 6) RESP2 with `AUTH`. Then `SELECT`.
    private static func handshake(
        _ setup: RedisConnection, configuration: RedisConfiguration
    ) async throws -> RedisConfiguration.ProtocolVersion {
        var version = RedisConfiguration.ProtocolVersion.resp2
        var authenticated = configuration.password == nil
        if configuration.protocolVersion == .resp3 {
            var hello = ["HELLO", "3"]
            if let password = configuration.password {
                hello += ["AUTH", configuration.username ?? "default", password]
            }
            if let name = configuration.clientName { hello += ["SETNAME", name] }
            let reply = try await setup.send(hello)
            if let message = reply.errorMessage {
                if isAuthenticationError(message) { throw RedisError.authenticationFailed(message) }
            } else {
                version = .resp3
                authenticated = true
            }
        }
        var commands: [[String]] = []
        if !authenticated, let password = configuration.password {
            commands.append(configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if version == .resp2, let name = configuration.clientName { commands.append(["CLIENT", "SETNAME", name]) }
        if configuration.database != 0 { commands.append(["SELECT", String(configuration.database)]) }
        guard !commands.isEmpty else { return version }
        for (command, reply) in zip(commands, try await setup.send(commands)) {
            guard let message = reply.errorMessage else { continue }
            if command[0] == "AUTH" || isAuthenticationError(message) {
                throw RedisError.authenticationFailed(message)
            }
            throw RedisError.server(message)
        }
        return version
    }

    private static func isAuthenticationError(_ message: String) -> Bool {
        message.hasPrefix("WRONGPASS") || message.hasPrefix("NOAUTH") || message.hasPrefix("NOPERM")
    }

    /// SNI and hostname checks take a DNS name; for an IP literal NIOSSL checks the certificate's IP SAN instead.
    static func sniName(for host: String) -> String? {
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || host.contains(":") ? nil : host
    }
}
