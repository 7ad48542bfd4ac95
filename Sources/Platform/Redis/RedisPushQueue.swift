import NIOCore
import Synchronization

/// Hands pub/sub frames from the event loop to the one task iterating a subscription.
///
/// A consumer that falls far behind loses the oldest frames rather than growing memory without bound (pub/sub is
/// fire-and-forget in Redis too: a slow subscriber is eventually disconnected by the server).
final class RedisPushQueue: Sendable {
    /// Frames kept for a slow consumer before the oldest are dropped.
    static let capacity = 65_536

    private struct State {
        var frames = CircularBuffer<RESPValue>()
        var waiter: CheckedContinuation<RESPValue?, any Error>?
        /// `nil` while open; `.success` after a normal close, `.failure` after a connection error.
        var end: Result<Void, RedisError>?
        var dropped = 0
    }

    private let state = Mutex(State())

    /// Number of frames dropped because the consumer was too slow.
    var droppedCount: Int { state.withLock { $0.dropped } }

    func push(_ frame: RESPValue) {
        let waiter = state.withLock { state -> CheckedContinuation<RESPValue?, any Error>? in
            guard state.end == nil else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            if state.frames.count >= Self.capacity {
                state.frames.removeFirst()
                state.dropped += 1
            }
            state.frames.append(frame)
            return nil
        }
        waiter?.resume(returning: frame)
    }

    /// Ends the queue normally: the consumer gets the buffered frames, then `nil`.
    func finish() {
        end(.success(()))
    }

    /// Ends the queue with a connection error: the consumer gets the buffered frames, then the error.
    func finish(throwing error: RedisError) {
        end(.failure(error))
    }

    private func end(_ result: Result<Void, RedisError>) {
        let waiter = state.withLock { state -> CheckedContinuation<RESPValue?, any Error>? in
            if state.end == nil { state.end = result }
            defer { state.waiter = nil }
            return state.waiter
        }
        switch result {
        case .success: waiter?.resume(returning: nil)
        case .failure(let error): waiter?.resume(throwing: error)
        }
    }

    /// The next frame; `nil` after `finish()`; throws the connection error, or `CancellationError` when the
    /// waiting task is cancelled.
    func next() async throws -> RESPValue? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RESPValue?, any Error>) in
                let immediate = state.withLock { state -> Result<RESPValue?, any Error>? in
                    if let frame = state.frames.popFirst() { return .success(frame) }
                    switch state.end {
                    case .success: return .success(nil)
                    case .failure(let error): return .failure(error)
                    case nil: break
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    precondition(state.waiter == nil, "a subscription has a single consumer")
                    state.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<RESPValue?, any Error>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
