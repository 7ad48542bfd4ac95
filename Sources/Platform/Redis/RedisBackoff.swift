/// Exponential pause between reconnect attempts: initial, 2×, 4×, ... capped at the maximum.
struct RedisBackoff: Sendable {
    var initial: Duration
    var maximum: Duration

    func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        var doublings = Swift.max(failures, 1) - 1
        while doublings > 0, delay < maximum {
            delay *= 2
            doublings -= 1
        }
        return Swift.min(delay, maximum)
    }
}
