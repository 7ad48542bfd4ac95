import Logging
import NIOCore
import Synchronization

/// One message received on a subscribed channel.
package struct RedisPubSubMessage: Sendable, Hashable {
    package var channel: String
    package var payload: ByteBuffer

    /// The payload decoded as UTF-8.
    package var string: String { String(buffer: payload) }
}

/// Messages of the subscribed channels, on a connection dedicated to them.
///
/// Iterating drives the connection: when it is lost, the iterator reconnects (with exponential backoff) and
/// resubscribes before waiting for the next message, so consumers see one uninterrupted sequence. There is one
/// consumer; the sequence ends (returns `nil`) after `close()`, the client's `shutdown()`, or when the consuming
/// task is cancelled.
package final class RedisSubscription: AsyncSequence, Sendable {
    package typealias Element = RedisPubSubMessage

    private struct State {
        var connection: RedisConnection?
        var queue: RedisPushQueue?
        /// Messages that arrived while confirmations were awaited.
        var early: [RedisPubSubMessage] = []
        var closed = false
    }

    package let channels: [String]
    private let commandTimeout: Duration
    private let backoff: RedisBackoff
    private let logger: Logger
    private let connect: @Sendable () async throws -> RedisConnection
    private let state = Mutex(State())
    /// Completed (re)subscriptions, for tests and diagnostics.
    private let subscribeCount = Atomic<Int>(0)

    init(
        channels: [String], commandTimeout: Duration, backoffInitial: Duration, backoffMaximum: Duration,
        logger: Logger, connect: @escaping @Sendable () async throws -> RedisConnection
    ) {
        self.channels = channels
        self.commandTimeout = commandTimeout
        self.backoff = RedisBackoff(initial: backoffInitial, maximum: backoffMaximum)
        self.logger = logger
        self.connect = connect
    }

    deinit {
        state.withLock { $0.connection?.close() }
    }

    /// How many times the channels were subscribed: 1 after `subscribe`, plus one per reconnect.
    package var subscriptionCount: Int { subscribeCount.load(ordering: .relaxed) }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(subscription: self)
    }

    /// Reads the subscription's messages; all iterators share one position.
    package struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: RedisSubscription

        package mutating func next() async throws -> RedisPubSubMessage? {
            try await subscription.next()
        }
    }

    /// Unsubscribes by closing the dedicated connection; the sequence then ends.
    package func close() async {
        let (connection, queue) = state.withLock { state in
            state.closed = true
            defer {
                state.connection = nil
                state.queue = nil
            }
            return (state.connection, state.queue)
        }
        queue?.finish()
        if let connection {
            connection.close()
            try? await connection.channel.closeFuture.get()
        }
    }

    /// Opens a connection, subscribes, and waits until the server confirmed every channel.
    func establish() async throws {
        let connection = try await connect()
        let queue = RedisPushQueue()
        let channel = connection.channel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(commandTimeout)) {
            queue.finish(throwing: .commandTimeout)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            try await connection.enterSubscriberMode(queue)
            try await connection.sendUnanswered(["SUBSCRIBE"] + channels)
            var unconfirmed = Set(channels)
            var early: [RedisPubSubMessage] = []
            while !unconfirmed.isEmpty {
                guard let frame = try await queue.next() else { throw RedisError.connectionClosed }
                switch Self.classify(frame) {
                case .confirmation(let name): unconfirmed.remove(name)
                case .message(let message): early.append(message)
                case .other: break
                }
            }
            let accepted = state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.connection = connection
                state.queue = queue
                state.early += early
                return true
            }
            guard accepted else { throw RedisError.poolShutDown }
            subscribeCount.add(1, ordering: .relaxed)
        } catch {
            connection.close()
            throw error
        }
    }

    private func next() async throws -> RedisPubSubMessage? {
        var failures = 0
        while true {
            let (closed, early, queue) = state.withLock { state in
                (state.closed, state.early.isEmpty ? nil : state.early.removeFirst(), state.queue)
            }
            if closed { return nil }
            if let early { return early }
            guard let queue else {
                // Lost connection: resubscribe, pausing longer after each failed attempt.
                do {
                    try await establish()
                    failures = 0
                    logger.info("Redis subscription re-established", metadata: ["channels": "\(channels)"])
                } catch {
                    failures += 1
                    do {
                        try await Task.sleep(for: backoff.delay(afterFailures: failures))
                    } catch {
                        await close()
                        return nil
                    }
                }
                continue
            }
            do {
                guard let frame = try await queue.next() else { return nil }
                if case .message(let message) = Self.classify(frame) { return message }
            } catch is CancellationError {
                await close()
                return nil
            } catch {
                logger.warning("Redis subscription connection lost", metadata: ["error": "\(error)"])
                dropConnection(queue)
            }
        }
    }

    private func dropConnection(_ queue: RedisPushQueue) {
        let connection = state.withLock { state -> RedisConnection? in
            guard state.queue === queue else { return nil }
            defer {
                state.connection = nil
                state.queue = nil
            }
            return state.connection
        }
        connection?.close()
    }

    private enum Frame {
        case confirmation(String)
        case message(RedisPubSubMessage)
        case other
    }

    /// Pub/sub frames are pushes in RESP3 and arrays in RESP2, with the same elements.
    private static func classify(_ frame: RESPValue) -> Frame {
        guard let elements = frame.array, let kind = elements.first?.string?.lowercased() else { return .other }
        switch kind {
        case "subscribe" where elements.count >= 2:
            return elements[1].string.map { .confirmation($0) } ?? .other
        case "message" where elements.count >= 3:
            guard let channel = elements[1].string, let payload = elements[2].buffer else { return .other }
            return .message(RedisPubSubMessage(channel: channel, payload: payload))
        default:
            return .other
        }
    }
}
