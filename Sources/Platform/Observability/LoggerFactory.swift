import Logging

/// Makes loggers that write through a `LogSink`, without touching swift-log's global bootstrap.
package enum LoggerFactory {
    package static func make(label: String, sink: LogSink, configuration: InopsioConfiguration) -> Logger {
        let level = configuration.logLevel
        let json = configuration.logFormat == .json
        return Logger(label: label) { label in
            StructuredLogHandler(label: label, sink: sink, level: level, json: json)
        }
    }
}
