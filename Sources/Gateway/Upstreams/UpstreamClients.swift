import AsyncHTTPClient
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The HTTP clients the proxy uses, one per connect timeout (AsyncHTTPClient sets it per client), each with its own
/// keep-alive pools per target. They live as long as the gateway and are shut down with it.
package final class UpstreamClients: Sendable {
    private let clients = Mutex<[Duration: HTTPClient]>([:])
    private let eventLoopGroup: any EventLoopGroup
    /// Longest silence while a response body streams (the try timeout only covers the wait for the head).
    private let readTimeout: Duration

    package init(
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        readTimeout: Duration = .seconds(300)
    ) {
        self.eventLoopGroup = eventLoopGroup
        self.readTimeout = readTimeout
    }

    package func client(connectTimeout: Duration) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[connectTimeout] { return client }
            var pool = HTTPClient.Configuration.ConnectionPool()
            pool.idleTimeout = .seconds(60)
            pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(
                    connect: .nanoseconds(connectTimeout.nanoseconds), read: .nanoseconds(readTimeout.nanoseconds)),
                connectionPool: pool, decompression: .disabled)
            // No client spans: nothing records them yet, and building their attributes costs ~3 % per request.
            configuration.tracing.tracer = nil
            let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
            clients[connectTimeout] = client
            return client
        }
    }

    package func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }
}
