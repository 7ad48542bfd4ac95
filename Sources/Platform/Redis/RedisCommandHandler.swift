import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Why a connection broke, readable from any thread: a write issued after the channel closed only sees
/// `ioOnClosedChannel`, but the caller should learn the real cause (a TLS failure, a timeout).
final class RedisConnectionFailure: Sendable {
    private let cause = Mutex<RedisError?>(nil)

    var error: RedisError? { cause.withLock { $0 } }

    /// Keeps the first cause.
    func record(_ error: RedisError) {
        cause.withLock { if $0 == nil { $0 = error } }
    }
}

/// Encoded commands plus one promise per reply they will produce, written to the channel as a unit.
struct RedisRequest: Sendable {
    var payload: ByteBuffer
    var promises: [EventLoopPromise<RESPValue>]
}

/// Instructions to `RedisCommandHandler` that are not commands.
enum RedisConnectionEvent: Sendable {
    /// Close as soon as no reply is outstanding (graceful shutdown).
    case closeWhenIdle
    /// From now on every inbound value is pub/sub traffic for this queue instead of a command reply.
    case enterSubscriberMode(RedisPushQueue)
}

/// Matches replies to commands in FIFO order, which is what lets many commands be in flight on one connection.
///
/// Runs on the channel's event loop only. Every request arms a timer for its last reply; when one fires, all
/// outstanding commands fail with `commandTimeout` and the connection is closed, because a reply that arrives late
/// would otherwise be taken for the answer to the next command.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Deadline {
        var lastReply: UInt64
        var timer: Scheduled<Void>
    }

    private let commandTimeout: TimeAmount
    private let logger: Logger
    private let sharedFailure: RedisConnectionFailure
    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var deadlines = CircularBuffer<Deadline>()
    private var repliesExpected: UInt64 = 0
    private var repliesReceived: UInt64 = 0
    /// Set once the connection is unusable; later writes fail at once with it.
    private var failure: RedisError?
    private var closeWhenIdle = false
    private var subscriberQueue: RedisPushQueue?
    private var context: ChannelHandlerContext?

    init(commandTimeout: TimeAmount, logger: Logger, failure: RedisConnectionFailure) {
        self.commandTimeout = commandTimeout
        self.logger = logger
        self.sharedFailure = failure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            for reply in request.promises { reply.fail(failure) }
            promise?.fail(failure)
            return
        }
        if !request.promises.isEmpty {
            for reply in request.promises { pending.append(reply) }
            repliesExpected += UInt64(request.promises.count)
            let lastReply = repliesExpected
            let timer = context.eventLoop.assumeIsolated().scheduleTask(in: commandTimeout) { [self] in
                self.timeOut(lastReply: lastReply)
            }
            deadlines.append(Deadline(lastReply: lastReply, timer: timer))
        }
        context.write(wrapOutboundOut(request.payload), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let subscriberQueue {
            subscriberQueue.push(value)
            return
        }
        if case .push = value {
            // Out-of-band RESP3 data (e.g. client-side caching invalidations) is not the answer to anything.
            logger.debug("ignoring Redis push message")
            return
        }
        guard let reply = pending.popFirst() else {
            fail(context: context, .protocolError("reply without a pending command"))
            return
        }
        repliesReceived += 1
        while let first = deadlines.first, first.lastReply <= repliesReceived {
            first.timer.cancel()
            deadlines.removeFirst()
        }
        reply.succeed(value)
        if closeWhenIdle && pending.isEmpty { context.close(promise: nil) }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RedisConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .closeWhenIdle:
            closeWhenIdle = true
            if pending.isEmpty { context.close(promise: nil) }
            promise?.succeed()
        case .enterSubscriberMode(let queue):
            if let failure {
                queue.finish(throwing: failure)
                promise?.fail(failure)
                return
            }
            subscriberQueue = queue
            promise?.succeed()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, Self.redisError(error))
    }

    /// TLS failures are reported apart from network failures because they are configuration problems.
    static func redisError(_ error: any Error) -> RedisError {
        switch error {
        case let error as RedisError: error
        case let error as NIOSSLError: .tls(String(describing: error))
        case let error as BoringSSLError: .tls(String(describing: error))
        case let error as NIOSSLExtraError: .tls(String(describing: error))
        case let error as ByteToMessageDecoderError: .protocolError(String(describing: error))
        default: .connectionClosed
        }
    }

    private func timeOut(lastReply: UInt64) {
        guard repliesReceived < lastReply, let context else { return }
        logger.debug("Redis command timed out; closing the connection")
        fail(context: context, .commandTimeout)
    }

    /// Closes before failing the commands, so a task that retries at once never gets this connection again.
    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        if failure == nil {
            failure = error
            sharedFailure.record(error)
        }
        context.close(promise: nil)
        failAll(error)
    }

    /// Fails every outstanding command; the first cause wins, so a timeout is not reported as a closed connection.
    private func failAll(_ error: RedisError) {
        let cause = failure ?? error
        failure = cause
        sharedFailure.record(cause)
        for deadline in deadlines { deadline.timer.cancel() }
        deadlines.removeAll()
        while let reply = pending.popFirst() { reply.fail(cause) }
        subscriberQueue?.finish(throwing: cause)
    }
}

@available(*, unavailable)
extension RedisCommandHandler: Sendable {}
