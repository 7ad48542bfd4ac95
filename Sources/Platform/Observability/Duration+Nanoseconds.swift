extension Duration {
    /// The whole nanoseconds of the duration (logs, metrics and NIO's `TimeAmount` count in them).
    package var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

extension Duration {
    /// Whole milliseconds (rounded toward zero).
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
