import Synchronization

/// One place in the pool: holds at most one connection, opens it lazily, and backs off after failed connects.
///
/// Concurrent callers that find the slot connecting wait for that one attempt instead of opening their own; while
/// the slot backs off they fail at once with the last connect error, so an outage costs no connect storm.
final class RedisConnectionSlot: Sendable {
    private enum State {
        case idle(failures: Int)
        case connecting(waiters: [CheckedContinuation<RedisConnection?, any Error>], failures: Int)
        case connected(RedisConnection)
        case backingOff(until: ContinuousClock.Instant, error: RedisError, failures: Int)
        case shutDown
    }

    private enum Decision {
        case use(RedisConnection)
        case connect(failures: Int)
        case wait
        case fail(RedisError)
    }

    private let state = Mutex(State.idle(failures: 0))
    private let backoff: RedisBackoff

    init(backoffInitial: Duration, backoffMaximum: Duration) {
        self.backoff = RedisBackoff(initial: backoffInitial, maximum: backoffMaximum)
    }

    /// The open connection, if any, without connecting.
    var currentConnection: RedisConnection? {
        state.withLock { state in
            if case .connected(let connection) = state, connection.isActive { return connection }
            return nil
        }
    }

    /// The open connection, opening one with `connect` when there is none.
    func connection(connect: () async throws -> RedisConnection) async throws -> RedisConnection {
        while true {
            switch decide() {
            case .use(let connection):
                return connection
            case .fail(let error):
                throw error
            case .connect(let failures):
                return try await open(connect: connect, failures: failures)
            case .wait:
                let connection = try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<RedisConnection?, any Error>) in
                    let queued = state.withLock { state -> Bool in
                        guard case .connecting(var waiters, let failures) = state else { return false }
                        waiters.append(continuation)
                        state = .connecting(waiters: waiters, failures: failures)
                        return true
                    }
                    // The attempt finished in between: look at the slot again.
                    if !queued { continuation.resume(returning: nil) }
                }
                if let connection { return connection }
            }
        }
    }

    private func decide() -> Decision {
        state.withLock { state -> Decision in
            switch state {
            case .connected(let connection) where connection.isActive:
                return .use(connection)
            case .connected:
                state = .connecting(waiters: [], failures: 0)
                return .connect(failures: 0)
            case .idle(let failures):
                state = .connecting(waiters: [], failures: failures)
                return .connect(failures: failures)
            case .connecting:
                return .wait
            case .backingOff(let until, let error, let failures):
                guard ContinuousClock.now >= until else { return .fail(error) }
                state = .connecting(waiters: [], failures: failures)
                return .connect(failures: failures)
            case .shutDown:
                return .fail(.poolShutDown)
            }
        }
    }

    private func open(connect: () async throws -> RedisConnection, failures: Int) async throws -> RedisConnection {
        do {
            let connection = try await connect()
            let (waiters, accepted) = state.withLock {
                state -> ([CheckedContinuation<RedisConnection?, any Error>], Bool) in
                guard case .connecting(let waiters, _) = state else { return ([], false) }
                state = .connected(connection)
                return (waiters, true)
            }
            guard accepted else {
                connection.close()
                throw RedisError.poolShutDown
            }
            connection.channel.closeFuture.whenComplete { [weak self] _ in self?.connectionClosed(connection) }
            for waiter in waiters { waiter.resume(returning: connection) }
            return connection
        } catch {
            let redisError = error as? RedisError ?? .connectionRefused(String(describing: error))
            let delay = backoff.delay(afterFailures: failures + 1)
            let waiters = state.withLock { state -> [CheckedContinuation<RedisConnection?, any Error>] in
                guard case .connecting(let waiters, _) = state else { return [] }
                state = .backingOff(until: .now + delay, error: redisError, failures: failures + 1)
                return waiters
            }
            for waiter in waiters { waiter.resume(throwing: redisError) }
            throw redisError
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        state.withLock { state in
            if case .connected(let current) = state, current === connection { state = .idle(failures: 0) }
        }
    }

    /// Refuses new commands and returns the connection (if any) for the caller to close.
    func shutDown() -> RedisConnection? {
        let (connection, waiters) = state.withLock {
            state -> (RedisConnection?, [CheckedContinuation<RedisConnection?, any Error>]) in
            defer { state = .shutDown }
            switch state {
            case .connected(let connection): return (connection, [])
            case .connecting(let waiters, _): return (nil, waiters)
            default: return (nil, [])
            }
        }
        for waiter in waiters { waiter.resume(throwing: RedisError.poolShutDown) }
        return connection
    }
}
