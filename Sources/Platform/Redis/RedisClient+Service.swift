import ServiceLifecycle

/// Lets the pool live in the server's `ServiceGroup`: it runs until graceful shutdown, then drains and closes.
extension RedisClient: Service {
    package func run() async throws {
        // Returns on graceful shutdown; throws CancellationError when the group is cancelled: close in both cases.
        try? await gracefulShutdown()
        await shutdown()
    }
}
