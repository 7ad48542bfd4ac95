import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A pool of Redis connections shared by the whole process.
///
/// Policy: up to `poolSize` connections, opened lazily; each command goes to the next slot round-robin and is
/// pipelined there behind whatever is already in flight, so a handful of connections carries any number of
/// concurrent tasks without queueing for a free connection. A slot whose connection broke reconnects on its next
/// use; after a failed connect it backs off exponentially, and commands routed to it meanwhile go to any other open
/// connection or fail at once with the connect error. Blocking commands (`BLPOP`, `WAIT`) would stall the commands
/// pipelined behind them and are not meant for this pool; subscriptions get their own connection.
package final class RedisClient: Sendable {
    package let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let tlsContext: NIOSSLContext?
    private let slots: [RedisConnectionSlot]
    private let nextSlot = Atomic<UInt>(0)
    private let state = Mutex(State())

    private struct State {
        var isShutDown = false
        var subscriptions: [ObjectIdentifier: WeakSubscription] = [:]
    }

    /// Subscriptions end when the client shuts down, but the client must not keep abandoned ones alive.
    private struct WeakSubscription {
        weak var subscription: RedisSubscription?
    }

    package init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws(RedisError) {
        guard configuration.poolSize > 0 else { throw .invalidConfiguration("pool size must be at least 1") }
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        if let tls = configuration.tls {
            do {
                tlsContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw .tls("cannot build the TLS context: \(error)")
            }
        } else {
            tlsContext = nil
        }
        slots = (0..<configuration.poolSize).map { _ in
            RedisConnectionSlot(
                backoffInitial: configuration.reconnectBackoffInitial,
                backoffMaximum: configuration.reconnectBackoffMaximum)
        }
    }

    /// Runs one command; an error reply throws `RedisError.server`.
    @discardableResult
    package func send(_ arguments: [String]) async throws -> RESPValue {
        try Self.throwingErrorReply(try await connection().send(arguments))
    }

    /// Runs one command with binary-safe arguments; an error reply throws `RedisError.server`.
    @discardableResult
    package func send(_ arguments: [ByteBuffer]) async throws -> RESPValue {
        try Self.throwingErrorReply(try await connection().send(arguments))
    }

    /// Sends all commands in one write on one connection and returns the replies in order. Error replies stay
    /// `.error` values in the result; only a connection failure or timeout throws.
    package func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        return try await connection().send(commands)
    }

    /// `EVALSHA`, falling back to `EVAL` (which runs the script and caches it) when the server answers `NOSCRIPT`.
    @discardableResult
    package func evalSHA(_ script: RedisScript, keys: [String] = [], arguments: [String] = []) async throws
        -> RESPValue
    {
        let command = ["EVALSHA", script.sha1, String(keys.count)] + keys + arguments
        let first = try await connection().send(command)
        guard let message = first.errorMessage, message.hasPrefix("NOSCRIPT") else {
            return try Self.throwingErrorReply(first)
        }
        // Not cached (a new server, or its scripts were flushed): EVAL runs the script and caches it, in one round
        // trip. (Loading it and asking again failed when another client flushed the scripts in between.)
        return try await send(["EVAL", script.source, String(keys.count)] + keys + arguments)
    }

    /// Publishes a message; returns how many subscribers received it (on this node).
    @discardableResult
    package func publish(_ message: String, to channel: String) async throws -> Int {
        try await publish(ByteBuffer(string: message), to: channel)
    }

    /// Publishes binary data; returns how many subscribers received it (on this node).
    @discardableResult
    package func publish(_ message: ByteBuffer, to channel: String) async throws -> Int {
        let reply = try await send([ByteBuffer(string: "PUBLISH"), ByteBuffer(string: channel), message])
        guard let receivers = reply.int else { throw RedisError.protocolError("PUBLISH answered \(reply)") }
        return receivers
    }

    /// Checks that a pooled connection answers.
    package func ping() async throws {
        let reply = try await send(["PING"])
        guard reply.string == "PONG" else { throw RedisError.protocolError("PING answered \(reply)") }
    }

    /// Subscribes on a connection of its own; returns once the server confirmed every channel. The subscription
    /// reconnects and resubscribes by itself after a connection loss (messages published meanwhile are lost).
    package func subscribe(channels: [String]) async throws -> RedisSubscription {
        guard !channels.isEmpty else { throw RedisError.invalidConfiguration("subscribe needs at least one channel") }
        try checkOpen()
        let subscription = RedisSubscription(
            channels: channels, commandTimeout: configuration.commandTimeout,
            backoffInitial: configuration.reconnectBackoffInitial,
            backoffMaximum: configuration.reconnectBackoffMaximum, logger: logger
        ) { [self] in try await self.openConnection() }
        try await subscription.establish()
        let registered = state.withLock { state -> Bool in
            guard !state.isShutDown else { return false }
            state.subscriptions = state.subscriptions.filter { $0.value.subscription != nil }
            state.subscriptions[ObjectIdentifier(subscription)] = WeakSubscription(subscription: subscription)
            return true
        }
        guard registered else {
            await subscription.close()
            throw RedisError.poolShutDown
        }
        return subscription
    }

    /// Refuses new commands, lets in-flight ones finish (bounded by the command timeout), closes every connection
    /// and ends every subscription. Idempotent.
    package func shutdown() async {
        let subscriptions = state.withLock { state in
            state.isShutDown = true
            defer { state.subscriptions = [:] }
            return state.subscriptions.values.compactMap(\.subscription)
        }
        let connections = slots.compactMap { $0.shutDown() }
        for subscription in subscriptions { await subscription.close() }
        for connection in connections { await connection.closeGracefully() }
    }

    private func checkOpen() throws(RedisError) {
        if state.withLock({ $0.isShutDown }) { throw .poolShutDown }
    }

    /// The next slot's connection, or any open one when that slot cannot connect right now.
    private func connection() async throws -> RedisConnection {
        try checkOpen()
        let index = Int(nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(slots.count))
        do {
            return try await slots[index].connection { try await self.openConnection() }
        } catch let error as RedisError where error != .poolShutDown {
            for slot in slots {
                if let connection = slot.currentConnection { return connection }
            }
            throw error
        }
    }

    private func openConnection() async throws -> RedisConnection {
        try await RedisConnection.connect(
            configuration: configuration, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    private static func throwingErrorReply(_ value: RESPValue) throws(RedisError) -> RESPValue {
        if let message = value.errorMessage { throw .server(message) }
        return value
    }
}
