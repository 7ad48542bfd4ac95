import Foundation
import Logging

/// A swift-log handler writing one line per entry: JSON with ECS field names (`@timestamp`, `log.level`,
/// `message`, `log.logger`, plus metadata keys as given), or human-readable text.
public struct StructuredLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let sink: LogSink
    let json: Bool

    public init(label: String, sink: LogSink, level: Logger.Level, json: Bool) {
        self.label = label
        self.sink = sink
        self.logLevel = level
        self.json = json
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = LogTimestamp.now()
        if json {
            var line = "{\"@timestamp\":\"\(timestamp)\",\"log.level\":\"\(event.level.rawValue)\""
            line += ",\"message\":" + JSONText.quote("\(event.message)")
            line += ",\"log.logger\":" + JSONText.quote(label)
            for key in merged.keys.sorted() {
                let name = key == "hb.request.id" ? "request.id" : key
                line += "," + JSONText.quote(name) + ":" + JSONText.quote("\(merged[key]!)")
            }
            line += "}"
            sink.write(line: line)
        } else {
            var line = "\(timestamp) \(event.level.rawValue.uppercased()) \(event.message)"
            for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
            sink.write(line: line)
        }
    }

}

/// Minimal JSON string quoting for hand-built log lines (no allocation of encoders per line).
public enum JSONText {
    public static func quote(_ text: String) -> String {
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                result += String(format: "\\u%04x", control.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        result += "\""
        return result
    }
}
