import NIOCore

/// One reply (or one element of a reply) in the Redis serialization protocol, RESP2 and RESP3 alike.
///
/// RESP2 nulls keep their shape (`.bulkString(nil)`, `.array(nil)`) while RESP3 has one `.null`; the accessors treat
/// them alike, so code reading replies does not care which protocol the connection negotiated.
package indirect enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    /// A simple (`-`) or bulk (`!`) error; the message starts with its code, e.g. `NOSCRIPT No matching script`.
    case error(String)
    case integer(Int64)
    /// A binary-safe string; `nil` is RESP2's null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// `nil` is RESP2's null array (`*-1`).
    case array([RESPValue]?)
    case null
    case double(Double)
    case boolean(Bool)
    /// An integer too large for 64 bits, kept as its decimal text.
    case bigNumber(String)
    /// Text with a three-letter format hint (`txt`, `mkd`).
    case verbatimString(format: String, text: String)
    /// Key-value pairs in the order the server sent them.
    case map([RESPMapEntry])
    case set([RESPValue])
    /// Out-of-band data (pub/sub messages, invalidations), never the reply to a command.
    case push([RESPValue])
    /// Metadata the server attached to the value that follows it.
    case attribute([RESPMapEntry], RESPValue)
}

/// One key-value pair of a RESP3 map or attribute.
package struct RESPMapEntry: Sendable, Hashable {
    package var key: RESPValue
    package var value: RESPValue

    package init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// Builds a bulk string from text, the usual way to spell a test value or a command argument.
    package static func bulk(_ text: String) -> RESPValue {
        .bulkString(ByteBuffer(string: text))
    }

    /// The value an attribute annotates, or the value itself.
    package var unwrapped: RESPValue {
        if case .attribute(_, let value) = self { return value.unwrapped }
        return self
    }

    /// Text of a simple, bulk (decoded as UTF-8), verbatim or big-number string.
    package var string: String? {
        switch unwrapped {
        case .simpleString(let text), .bigNumber(let text): text
        case .bulkString(let buffer?): String(buffer: buffer)
        case .verbatimString(_, let text): text
        default: nil
        }
    }

    /// An integer reply, or a string reply holding a decimal integer (what `GET` returns after `INCR`).
    package var int: Int? {
        switch unwrapped {
        case .integer(let value): Int(exactly: value)
        case .simpleString, .bulkString, .bigNumber: string.flatMap { Int($0) }
        default: nil
        }
    }

    /// A double reply, an integer, or a string holding a number (RESP2 sends scores as bulk strings).
    package var double: Double? {
        switch unwrapped {
        case .double(let value): value
        case .integer(let value): Double(value)
        case .simpleString, .bulkString: string.flatMap { Double($0) }
        default: nil
        }
    }

    /// A boolean reply, or RESP2's spelling of one (integer 0 or 1).
    package var bool: Bool? {
        switch unwrapped {
        case .boolean(let value): value
        case .integer(0): false
        case .integer(1): true
        default: nil
        }
    }

    /// Elements of an array, set or push.
    package var array: [RESPValue]? {
        switch unwrapped {
        case .array(let elements?), .set(let elements), .push(let elements): elements
        default: nil
        }
    }

    /// Pairs of a map, or of a flat RESP2 array of even length (`HGETALL`, `CONFIG GET`), in server order.
    package var map: [RESPMapEntry]? {
        switch unwrapped {
        case .map(let entries): return entries
        case .array(let elements?) where elements.count.isMultiple(of: 2):
            return stride(from: 0, to: elements.count, by: 2).map {
                RESPMapEntry(key: elements[$0], value: elements[$0 + 1])
            }
        default: return nil
        }
    }

    /// Bytes of a bulk, simple or verbatim string.
    package var buffer: ByteBuffer? {
        switch unwrapped {
        case .bulkString(let buffer?): buffer
        case .simpleString(let text): ByteBuffer(string: text)
        case .verbatimString(_, let text): ByteBuffer(string: text)
        default: nil
        }
    }

    /// Bytes of a bulk, simple or verbatim string as an array.
    package var bytes: [UInt8]? {
        buffer.map { Array($0.readableBytesView) }
    }

    /// Whether this is any of the protocol's nulls.
    package var isNull: Bool {
        switch unwrapped {
        case .null, .bulkString(nil), .array(nil): true
        default: false
        }
    }

    /// The message of an error reply.
    package var errorMessage: String? {
        if case .error(let message) = unwrapped { return message }
        return nil
    }
}
