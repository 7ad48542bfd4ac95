import Foundation
import Hummingbird
import Platform
import ServiceLifecycle
import TestSupport
import Testing

@testable import Inopsio

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A route that takes a while, so a request is provably in flight when shutdown starts.
struct SlowModule: Module {
    let name = "slow"
    /// Told when the slow request has reached its handler, so the test starts the shutdown while it is in flight.
    let started: AsyncStream<Void>.Continuation

    func registerRoutes(on routes: RouteRegistrar, context: ModuleContext) {
        let started = started
        routes.get("/api/v1/slow/wait") { _, _ -> Response in
            started.yield()
            // Answers once this request's task sees the shutdown (a fixed pause raced with it on a loaded machine),
            // or after 10 s, when the test's expectations fail.
            for _ in 0..<1000 where !Task.isShuttingDownGracefully {
                try await Task.sleep(for: .milliseconds(10))
            }
            return Response(status: .ok, body: .init(byteBuffer: .init(string: "done")))
        }
    }
}

@Suite struct GracefulShutdownTests {
    @Test func gracefulShutdownFinishesTheInFlightRequestThenStops() async throws {
        try await withTestDatabase(.sqlite) { database, base in
            var configuration = base
            configuration.port = 0
            let (ports, portContinuation) = AsyncStream<Int>.makeStream()
            let (starts, startContinuation) = AsyncStream<Void>.makeStream()
            let application = try buildApplication(
                configuration: configuration, database: database, modules: [SlowModule(started: startContinuation)],
                sink: nil,
                logger: TestEnvironment.logger, onListening: { portContinuation.yield($0) })
            let group = makeServiceGroup(
                application: application, sink: LogSink(fileDescriptor: 2, immediate: true),
                configuration: configuration, logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let url = URL(string: "http://127.0.0.1:\(port)/api/v1/slow/wait")!
                async let inFlight = URLSession.shared.data(from: url)
                var startedIterator = starts.makeAsyncIterator()
                _ = await startedIterator.next()
                await group.triggerGracefulShutdown()
                let (data, response) = try await inFlight
                let http = response as? HTTPURLResponse
                #expect(http?.statusCode == 200)
                #expect(http?.value(forHTTPHeaderField: "Connection")?.lowercased() == "close")
                #expect(String(decoding: data, as: UTF8.self) == "done")
                try await tasks.waitForAll()
                // The listener is closed: a new request cannot connect.
                await #expect(throws: (any Error).self) {
                    _ = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)
                }
            }
        }
    }
}
