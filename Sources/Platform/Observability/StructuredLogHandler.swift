import Foundation
import Logging

/// A swift-log handler writing one line per entry: JSON with ECS field names (`@timestamp`, `log.level`,
/// `message`, `log.logger`, plus metadata keys as given), or human-readable text.
package struct StructuredLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    let label: String
    let sink: LogSink
    let json: Bool

    package init(label: String, sink: LogSink, level: Logger.Level, json: Bool) {
        self.label = label
        self.sink = sink
        self.logLevel = level
        self.json = json
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let level = event.level.rawValue
        let label = self.label
        if json {
            sink.record { line in
                line.raw("{\"@timestamp\":")
                line.timestamp()
                line.raw(",\"log.level\":\"")
                line.raw(level)
                line.raw("\",\"message\":")
                line.quoted("\(event.message)")
                line.raw(",\"log.logger\":")
                line.quoted(label)
                for key in merged.keys.sorted() {
                    line.raw(",")
                    line.quoted(key == "hb.request.id" ? "request.id" : key)
                    line.raw(":")
                    line.quoted("\(merged[key]!)")
                }
                line.raw("}")
            }
        } else {
            sink.record { line in
                line.timestamp()
                line.raw(" \(level.uppercased()) \(event.message)")
                for key in merged.keys.sorted() { line.raw(" \(key)=\(merged[key]!)") }
            }
        }
    }
}
