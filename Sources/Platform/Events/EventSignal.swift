import Synchronization

/// A wake-up between tasks of one process: the relay signals when it has handed out events, idle consumer workers
/// wait for it (or for their poll interval, whichever comes first). A signal with nobody waiting is kept for the
/// next waiter, so one given between a worker's empty claim and its wait is not lost.
package final class EventSignal: Sendable {
    private struct State {
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var pending = false
        /// Signals so far.
        var generation = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Wakes the waiters, at most `limit` of them (the longest waiting first); with nobody waiting, the next one
    /// to wait returns at once.
    package func signal(wakingAtMost limit: Int = .max) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            if state.waiters.isEmpty {
                state.pending = true
                return []
            }
            let chosen = state.waiters.keys.sorted().prefix(max(1, limit))
            return chosen.compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many signals there have been. A worker reads it before a pass and hands it to `wait`, so that a signal
    /// that woke only others while it was busy is not lost on it (it would otherwise sleep a whole poll interval
    /// with work waiting in a partition only it holds).
    package var generation: Int { state.withLock { $0.generation } }

    /// How many are waiting now (for tests).
    package var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns at the next signal (true), at once when there was a signal since `generation` `seen`, after `timeout`
    /// or when the task is cancelled (false).
    @discardableResult
    package func wait(timeout: Duration, unlessSignalledSince seen: Int? = nil) async -> Bool {
        if state.withLock({ state in
            if let seen, state.generation != seen { return true }
            defer { state.pending = false }
            return state.pending
        }) {
            return true
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            group.addTask {
                await self.waitForSignal(unlessSignalledSince: seen)
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func waitForSignal(unlessSignalledSince seen: Int?) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if let seen, state.generation != seen { return true }
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id) }
            continuation?.resume()
        }
    }
}
