import NIOCore
import Testing

@testable import Platform

/// The RESP2/RESP3 parser on hand-written wire bytes: every type, fragmented input, hostile input.
@Suite struct RESPParserTests {
    static let cases: [(wire: String, value: RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR unknown command\r\n", .error("ERR unknown command")),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        ("$5\r\nhello\r\n", .bulk("hello")),
        ("$0\r\n\r\n", .bulk("")),
        ("$-1\r\n", .bulkString(nil)),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        ("*2\r\n:1\r\n$1\r\nx\r\n", .array([.integer(1), .bulk("x")])),
        ("_\r\n", .null),
        (",3.25\r\n", .double(3.25)),
        (",-inf\r\n", .double(-.infinity)),
        (",1.5e3\r\n", .double(1500)),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("!21\r\nSYNTAX invalid syntax\r\n", .error("SYNTAX invalid syntax")),
        ("=15\r\ntxt:Some string\r\n", .verbatimString(format: "txt", text: "Some string")),
        (
            "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#t\r\n",
            .map([
                RESPMapEntry(key: .simpleString("first"), value: .integer(1)),
                RESPMapEntry(key: .bulk("second"), value: .boolean(true)),
            ])
        ),
        ("~2\r\n+a\r\n+b\r\n", .set([.simpleString("a"), .simpleString("b")])),
        (">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", .push([.bulk("message"), .bulk("ch"), .bulk("hi")])),
        (
            "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n",
            .attribute(
                [
                    RESPMapEntry(
                        key: .simpleString("key-popularity"),
                        value: .map([RESPMapEntry(key: .bulk("a"), value: .double(0.1923))]))
                ], .array([.integer(2_039_123), .integer(9_543_892)]))
        ),
        ("*2\r\n*1\r\n_\r\n%0\r\n", .array([.array([.null]), .map([])])),
    ]

    @Test(arguments: cases.indices)
    func everyTypeParsesFromWholeInput(index: Int) throws {
        let (wire, expected) = Self.cases[index]
        var buffer = ByteBuffer(string: wire + "+next\r\n")
        #expect(try RESPParser().parse(&buffer) == expected)
        #expect(try RESPParser().parse(&buffer) == .simpleString("next"))
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: cases.indices)
    func everyTypeParsesWhenFedOneByteAtATime(index: Int) throws {
        let (wire, expected) = Self.cases[index]
        let bytes = Array(wire.utf8)
        var buffer = ByteBuffer()
        var parsed: RESPValue?
        for (offset, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            parsed = try RESPParser().parse(&buffer)
            if offset < bytes.count - 1 {
                #expect(parsed == nil, "complete after \(offset + 1) of \(bytes.count) bytes")
                #expect(buffer.readerIndex == 0, "an incomplete value must not consume bytes")
            }
        }
        #expect(parsed == expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: cases.indices)
    func encoderOutputParsesBack(index: Int) throws {
        let (_, value) = Self.cases[index]
        var buffer = ByteBuffer()
        RESPEncoder.write(value, into: &buffer)
        #expect(try RESPParser().parse(&buffer) == value)
    }

    @Test func nanParses() throws {
        var buffer = ByteBuffer(string: ",nan\r\n")
        let value = try #require(try RESPParser().parse(&buffer))
        #expect(value.double?.isNaN == true)
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let payload: [UInt8] = [0, 13, 10, 255, 36, 13, 10, 42]
        var buffer = ByteBuffer(string: "$8\r\n")
        buffer.writeBytes(payload)
        buffer.writeString("\r\n")
        #expect(try RESPParser().parse(&buffer)?.bytes == payload)
    }

    @Test func commandsAreEncodedAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["SET", "k", "é"], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n")
    }

    static let malformed: [(wire: String, reason: String)] = [
        ("?3\r\n", "unknown type byte"),
        (":12a\r\n", "invalid integer"),
        (":\r\n", "invalid integer"),
        ("$-2\r\n", "invalid length"),
        ("$3\r\nabcd\r\n", "not terminated by CRLF"),
        ("*-2\r\n", "invalid element count"),
        ("#x\r\n", "invalid boolean"),
        (",abc\r\n", "invalid double"),
        ("(12x\r\n", "invalid big number"),
        ("_x\r\n", "null with a payload"),
        ("=3\r\ntxt\r\n", "format prefix"),
        ("+OK\rX", "CR not followed by LF"),
        ("$?\r\n", "invalid integer"),
    ]

    @Test(arguments: malformed.indices)
    func malformedInputIsAProtocolError(index: Int) {
        let (wire, reason) = Self.malformed[index]
        var buffer = ByteBuffer(string: wire)
        let error = #expect(throws: RedisError.self) { _ = try RESPParser().parse(&buffer) }
        guard case .protocolError(let message) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(message.contains(reason))
    }

    @Test func deepNestingIsRefused() {
        var buffer = ByteBuffer(string: String(repeating: "*1\r\n", count: 100) + ":1\r\n")
        #expect(throws: RedisError.self) { try RESPParser().parse(&buffer) }
    }

    @Test func endlessLineIsRefused() {
        var parser = RESPParser()
        parser.maxLineLength = 16
        var buffer = ByteBuffer(string: "+" + String(repeating: "a", count: 32))
        #expect(throws: RedisError.self) { try parser.parse(&buffer) }
    }

    @Test func forgedHugeCountNeedsMoreDataWithoutAllocating() throws {
        var buffer = ByteBuffer(string: "*16000000\r\n:1\r\n")
        #expect(try RESPParser().parse(&buffer) == nil)
        #expect(buffer.readerIndex == 0)
    }

    @Test func accessorsReadAcrossProtocols() {
        let resp2Hash = RESPValue.array([.bulk("field"), .bulk("7")])
        let resp3Hash = RESPValue.map([RESPMapEntry(key: .bulk("field"), value: .bulk("7"))])
        #expect(resp2Hash.map == resp3Hash.map)
        #expect(resp3Hash.map?.first?.value.int == 7)
        #expect(RESPValue.bulkString(nil).isNull && RESPValue.null.isNull && RESPValue.array(nil).isNull)
        #expect(RESPValue.integer(1).bool == true)
        #expect(RESPValue.attribute([], .simpleString("OK")).string == "OK")
        #expect(RESPValue.set([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.error("NOSCRIPT x").errorMessage == "NOSCRIPT x")
        #expect(RESPValue.bulk("2.5").double == 2.5)
    }
}
