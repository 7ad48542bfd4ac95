import NIOCore

/// Parses RESP2/RESP3 values from a byte buffer, however TCP chopped them.
///
/// `parse` either consumes one complete value or, when the buffer ends inside one, leaves the reader index where it
/// was and returns `nil`; the caller retries with more bytes. An incomplete aggregate is therefore re-parsed from its
/// start when more bytes arrive, which is quadratic only for single huge replies split into many reads: an accepted
/// cost for a parser without intermediate state. RESP3 streamed strings and aggregates (`$?`) are not supported:
/// Redis never sends them.
package struct RESPParser: Sendable {
    /// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
    package var maxDepth = 64
    /// Redis' own `proto-max-bulk-len` default.
    package var maxBulkLength = 512 * 1024 * 1024
    /// A simple line (status, error, number) longer than this without a CRLF is not RESP.
    package var maxLineLength = 64 * 1024
    /// Elements of one aggregate; each costs memory before any byte of it arrived.
    package var maxAggregateCount = 16 * 1024 * 1024

    package init() {}

    /// One complete value, or `nil` (buffer untouched) when more bytes are needed.
    package func parse(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        let start = buffer.readerIndex
        do {
            guard let value = try parseValue(&buffer, depth: 0) else {
                buffer.moveReaderIndex(to: start)
                return nil
            }
            return value
        } catch {
            buffer.moveReaderIndex(to: start)
            throw error
        }
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(RedisError) -> RESPValue? {
        guard depth <= maxDepth else { throw .protocolError("nesting deeper than \(maxDepth)") }
        guard let marker = buffer.readInteger(as: UInt8.self) else { return nil }
        switch marker {
        case UInt8(ascii: "+"):
            return try readLine(&buffer).map { .simpleString($0) }
        case UInt8(ascii: "-"):
            return try readLine(&buffer).map { .error($0) }
        case UInt8(ascii: ":"):
            return try readInteger(&buffer).map { .integer($0) }
        case UInt8(ascii: "$"):
            guard let length = try readInteger(&buffer) else { return nil }
            if length == -1 { return .bulkString(nil) }
            return try readBlob(&buffer, length: length).map { .bulkString($0) }
        case UInt8(ascii: "!"):
            guard let length = try readInteger(&buffer) else { return nil }
            return try readBlob(&buffer, length: length).map { .error(String(buffer: $0)) }
        case UInt8(ascii: "="):
            guard let length = try readInteger(&buffer), var blob = try readBlob(&buffer, length: length) else {
                return nil
            }
            guard blob.readableBytes >= 4,
                blob.getInteger(at: blob.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":")
            else { throw .protocolError("verbatim string without a format prefix") }
            let format = blob.readString(length: 3) ?? ""
            blob.moveReaderIndex(forwardBy: 1)
            return .verbatimString(format: format, text: String(buffer: blob))
        case UInt8(ascii: "_"):
            guard let line = try readLine(&buffer) else { return nil }
            guard line.isEmpty else { throw .protocolError("null with a payload") }
            return .null
        case UInt8(ascii: ","):
            guard let line = try readLine(&buffer) else { return nil }
            guard let value = Double(line) else { throw .protocolError("invalid double \(line.debugDescription)") }
            return .double(value)
        case UInt8(ascii: "#"):
            guard let line = try readLine(&buffer) else { return nil }
            switch line {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw .protocolError("invalid boolean \(line.debugDescription)")
            }
        case UInt8(ascii: "("):
            guard let line = try readLine(&buffer) else { return nil }
            let digits = line.hasPrefix("-") || line.hasPrefix("+") ? line.dropFirst() : Substring(line)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw .protocolError("invalid big number \(line.debugDescription)")
            }
            return .bigNumber(line)
        case UInt8(ascii: "*"):
            guard let count = try readInteger(&buffer) else { return nil }
            if count == -1 { return .array(nil) }
            return try readElements(&buffer, count: count, depth: depth).map { .array($0) }
        case UInt8(ascii: "~"):
            guard let count = try readInteger(&buffer) else { return nil }
            return try readElements(&buffer, count: count, depth: depth).map { .set($0) }
        case UInt8(ascii: ">"):
            guard let count = try readInteger(&buffer) else { return nil }
            return try readElements(&buffer, count: count, depth: depth).map { .push($0) }
        case UInt8(ascii: "%"):
            guard let count = try readInteger(&buffer) else { return nil }
            return try readEntries(&buffer, count: count, depth: depth).map { .map($0) }
        case UInt8(ascii: "|"):
            guard let count = try readInteger(&buffer),
                let entries = try readEntries(&buffer, count: count, depth: depth),
                let value = try parseValue(&buffer, depth: depth + 1)
            else { return nil }
            return .attribute(entries, value)
        default:
            throw .protocolError("unknown type byte 0x\(String(marker, radix: 16))")
        }
    }

    /// The text up to the next CRLF, consumed with it.
    private func readLine(_ buffer: inout ByteBuffer) throws(RedisError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > maxLineLength { throw .protocolError("line longer than \(maxLineLength) bytes") }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw .protocolError("CR not followed by LF") }
        let length = cr - view.startIndex
        let line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    private func readInteger(_ buffer: inout ByteBuffer) throws(RedisError) -> Int64? {
        guard let line = try readLine(&buffer) else { return nil }
        guard let value = Int64(line) else { throw .protocolError("invalid integer \(line.debugDescription)") }
        return value
    }

    /// `length` bytes followed by CRLF.
    private func readBlob(_ buffer: inout ByteBuffer, length: Int64) throws(RedisError) -> ByteBuffer? {
        guard length >= 0, length <= maxBulkLength else { throw .protocolError("invalid length \(length)") }
        let size = Int(length)
        guard buffer.readableBytes >= size + 2 else { return nil }
        guard buffer.getInteger(at: buffer.readerIndex + size, as: UInt16.self) == 0x0D0A else {
            throw .protocolError("string not terminated by CRLF")
        }
        let blob = buffer.readSlice(length: size)
        buffer.moveReaderIndex(forwardBy: 2)
        return blob
    }

    private func checkedCount(_ count: Int64) throws(RedisError) -> Int {
        guard count >= 0, count <= maxAggregateCount else { throw .protocolError("invalid element count \(count)") }
        return Int(count)
    }

    private func readElements(_ buffer: inout ByteBuffer, count: Int64, depth: Int) throws(RedisError) -> [RESPValue]? {
        let count = try checkedCount(count)
        var elements: [RESPValue] = []
        // Capacity follows the bytes present so a forged count cannot allocate gigabytes up front.
        elements.reserveCapacity(min(count, buffer.readableBytes / 3))
        for _ in 0..<count {
            guard let element = try parseValue(&buffer, depth: depth + 1) else { return nil }
            elements.append(element)
        }
        return elements
    }

    private func readEntries(_ buffer: inout ByteBuffer, count: Int64, depth: Int) throws(RedisError) -> [RESPMapEntry]?
    {
        let count = try checkedCount(count)
        var entries: [RESPMapEntry] = []
        entries.reserveCapacity(min(count, buffer.readableBytes / 6))
        for _ in 0..<count {
            guard let key = try parseValue(&buffer, depth: depth + 1),
                let value = try parseValue(&buffer, depth: depth + 1)
            else { return nil }
            entries.append(RESPMapEntry(key: key, value: value))
        }
        return entries
    }
}

/// Turns the connection's byte stream into `RESPValue`s for `RedisCommandHandler`.
package struct RESPDecoder: ByteToMessageDecoder {
    package typealias InboundOut = RESPValue

    private let parser: RESPParser

    package init(parser: RESPParser = RESPParser()) {
        self.parser = parser
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    /// A value cut off by EOF is dropped: the command waiting for it fails with `connectionClosed`.
    package mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
