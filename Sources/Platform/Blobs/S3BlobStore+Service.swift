import ServiceLifecycle

/// Lets the S3 store live in the server's `ServiceGroup`: its HTTP client closes when the server stops.
extension S3BlobStore: Service {
    package func run() async throws {
        // Returns on graceful shutdown; throws CancellationError when the group is cancelled: close in both cases.
        try? await gracefulShutdown()
        try await shutdown()
    }
}
