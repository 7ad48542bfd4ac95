import NIOCore

/// Writes commands (arrays of bulk strings, the only thing a client sends) and, for tests and tooling, any value.
package enum RESPEncoder {
    /// Appends one command: `*<n>\r\n` then each argument as `$<len>\r\n<bytes>\r\n`.
    package static func writeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.utf8.count))
            buffer.writeStaticString("\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// Appends one command with binary-safe arguments.
    package static func writeCommand(_ arguments: [ByteBuffer], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.readableBytes))
            buffer.writeStaticString("\r\n")
            buffer.writeImmutableBuffer(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// Appends any value in its RESP3 form (RESP2 nulls keep their RESP2 spelling).
    package static func write(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let text): line("+", text, &buffer)
        case .error(let message): line("-", message, &buffer)
        case .integer(let number): line(":", String(number), &buffer)
        case .bulkString(nil): buffer.writeStaticString("$-1\r\n")
        case .bulkString(let bytes?):
            line("$", String(bytes.readableBytes), &buffer)
            buffer.writeImmutableBuffer(bytes)
            buffer.writeStaticString("\r\n")
        case .array(nil): buffer.writeStaticString("*-1\r\n")
        case .array(let elements?): aggregate("*", elements, &buffer)
        case .null: buffer.writeStaticString("_\r\n")
        case .double(let number): line(",", doubleText(number), &buffer)
        case .boolean(let flag): buffer.writeStaticString(flag ? "#t\r\n" : "#f\r\n")
        case .bigNumber(let digits): line("(", digits, &buffer)
        case .verbatimString(let format, let text):
            let body = format + ":" + text
            line("=", String(body.utf8.count), &buffer)
            buffer.writeString(body)
            buffer.writeStaticString("\r\n")
        case .map(let entries): entryAggregate("%", entries, &buffer)
        case .set(let elements): aggregate("~", elements, &buffer)
        case .push(let elements): aggregate(">", elements, &buffer)
        case .attribute(let entries, let value):
            entryAggregate("|", entries, &buffer)
            write(value, into: &buffer)
        }
    }

    private static func line(_ marker: String, _ text: String, _ buffer: inout ByteBuffer) {
        buffer.writeString(marker)
        buffer.writeString(text)
        buffer.writeStaticString("\r\n")
    }

    private static func aggregate(_ marker: String, _ elements: [RESPValue], _ buffer: inout ByteBuffer) {
        line(marker, String(elements.count), &buffer)
        for element in elements { write(element, into: &buffer) }
    }

    private static func entryAggregate(_ marker: String, _ entries: [RESPMapEntry], _ buffer: inout ByteBuffer) {
        line(marker, String(entries.count), &buffer)
        for entry in entries {
            write(entry.key, into: &buffer)
            write(entry.value, into: &buffer)
        }
    }

    private static func doubleText(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        return String(number)
    }
}
