#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Appends the parts of one JSON log line straight into the sink's byte buffer: the hot path of the access
/// log, kept free of intermediate strings and formatters.
struct LogLineWriter {
    var bytes: [UInt8]
    var clock: LogClock

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A JSON string literal, escaping quotes, backslashes and control characters.
    mutating func quoted(_ text: String) {
        bytes.append(0x22)
        // Most values (paths, ids, routes) need no escaping: copy them in one go.
        let plain = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            guard !buffer.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain != true { escape(text) }
        bytes.append(0x22)
    }

    private mutating func escape(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
    }

    /// The current time as a quoted RFC 3339 UTC timestamp with milliseconds.
    mutating func timestamp() {
        bytes.append(0x22)
        clock.append(to: &bytes)
        bytes.append(0x22)
    }
}
