import ServiceLifecycle

/// Flushes the log sink every 200 ms while the server runs, and once more when the service group shuts down.
package struct LogFlushService: Service {
    let sink: LogSink

    package init(sink: LogSink) {
        self.sink = sink
    }

    package func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(200))
            sink.flush()
        }
        sink.flush()
    }
}
