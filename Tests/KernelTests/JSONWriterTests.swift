import Foundation
import Kernel
import Testing

/// `JSONWriter` must write the text `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`, as `JSONResponse`
/// configures it) writes for the same value, byte for byte.
@Suite struct JSONWriterTests {
    struct Sample: JSONObject, Equatable {
        var amount: Money
        var createdAt: Date
        var custom: [String: JSONValue]
        var id: ID<Sample>?
        var name: String?
        var score: Int
        var total: Int64?
        var flag: Bool?
        var tags: [String]

        func writeFields(to fields: inout some JSONFields) throws {
            try fields.field("amount", object: amount)
            try fields.field("created_at", date: createdAt)
            try fields.field("custom", custom)
            try fields.field("flag", flag)
            try fields.field("id", id)
            try fields.field("name", name)
            try fields.field("score", score)
            try fields.field("tags", tags)
            try fields.field("total", total)
        }
    }

    static func encoderText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func writerText(_ value: some JSONWritable) throws -> String {
        var writer = JSONWriter()
        try value.write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static let awkwardStrings = [
        "", "plain", "quote \" and backslash \\", "slash / stays", "tab\tnew\nline\rreturn", "\u{08}\u{0C}",
        "control \u{01}\u{1F}", "émoji 🎉 and 日本語", "\u{7F} delete", "</script>",
    ]

    @Test func objectsMatchJSONEncoder() throws {
        var random = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let text = Self.awkwardStrings[round % Self.awkwardStrings.count]
            let sample = Sample(
                amount: Money(
                    amountMinor: Int64.random(in: -1_000_000...1_000_000, using: &random),
                    currency: CurrencyCode("eur")!),
                createdAt: Date(epochMilliseconds: Int64.random(in: 0...4_102_444_800_000, using: &random)),
                custom: [
                    "a_text": .string(text), "b_number": .number(Double(round) / 8),
                    "c_int": .integer(Int64(round) - 100),
                    "d_list": [.bool(true), .null, .string(text)], "e_nested": ["z": .integer(1), "a": .string("x")],
                    "f10": .bool(false), "f9": .null, "ß_key": .string("non-ASCII key"), "Z_upper": .integer(0),
                ],
                id: round % 3 == 0 ? nil : ID(UUID()), name: round % 4 == 0 ? nil : text,
                score: Int.random(in: Int.min...Int.max, using: &random), total: round % 2 == 0 ? nil : Int64.min,
                flag: [true, false, nil][round % 3], tags: [text, "vip"])
            #expect(try Self.writerText(sample) == Self.encoderText(sample))
        }
    }

    @Test func pagesMatchJSONEncoder() throws {
        let item = Sample(
            amount: Money(amountMinor: 1999, currency: CurrencyCode("USD")!),
            createdAt: Date(epochMilliseconds: 1_700_000_000_123),
            custom: [:], id: nil, name: "x", score: 0, total: 5, flag: nil, tags: [])
        for page in [
            Page(data: [item, item], nextCursor: Cursor(position: "after|this"), total: 12),
            Page(data: [Sample](), nextCursor: nil), Page(data: [item], nextCursor: nil, total: 0),
        ] {
            #expect(try Self.writerText(page) == Self.encoderText(page))
        }
    }

    @Test func numbersMatchJSONEncoder() throws {
        for number in [0, -0.0, 1, -1, 0.5, 1e-7, 1.5e300, 123_456_789.125, 9_007_199_254_740_992, -2.25] as [Double] {
            var writer = JSONWriter()
            writer.number(number)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == (try Self.encoderText(number)), "\(number)")
        }
        var writer = JSONWriter()
        writer.number(.nan)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "null")
    }

    @Test func encodableFormComesFromTheSameFields() throws {
        let sample = Sample(
            amount: Money(amountMinor: 1, currency: CurrencyCode("EUR")!), createdAt: Date(epochMilliseconds: 0),
            custom: ["k": .string("v")], id: nil, name: nil, score: 3, total: nil, flag: true, tags: ["t"])
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(try Self.encoderText(sample).utf8))
        #expect(Set(object.keys) == ["amount", "created_at", "custom", "flag", "id", "name", "score", "tags", "total"])
        #expect(object["created_at"] == .string("1970-01-01T00:00:00.000Z"))
        #expect(object["amount"] == ["amount_minor": .integer(1), "currency": "EUR"])
        #expect(object["id"] == .null)
    }
}

@Suite struct RFC3339Tests {
    /// The text from Foundation's calendar: the date and time of the whole second, then the milliseconds, counted
    /// from the integer (Foundation's own `ISO8601FormatStyle` writes 1_700_000_000_123 ms as `.122`, since the
    /// `Double` of seconds is a hair below it; `RFC3339` writes `.123`).
    static func reference(milliseconds: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T\(pad(parts.hour, 2)):"
            + "\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad(Int(milliseconds - seconds * 1000), 3))Z"
    }

    @Test func matchesTheCalendar() {
        var random = SystemRandomNumberGenerator()
        // From 1601 (before it Foundation's calendar switches to the Julian one) to 9999.
        var milliseconds: [Int64] = [
            0, -1, -1000, 951_782_400_000, 4_107_542_399_999, 1_700_000_000_123, 253_402_300_799_999,
            -11_644_473_600_000,
        ]
        for _ in 0..<5_000 {
            milliseconds.append(Int64.random(in: -11_644_473_600_000...253_402_300_799_999, using: &random))
        }
        for value in milliseconds {
            #expect(
                RFC3339.string(from: Date(epochMilliseconds: value)) == Self.reference(milliseconds: value), "\(value)")
        }
    }

    @Test func truncatesBelowAMillisecond() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_700_000_000.9999)) == "2023-11-14T22:13:20.999Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.0005)) == "1969-12-31T23:59:59.999Z")
    }

    @Test func readsBackWhatItWrites() throws {
        let date = Date(epochMilliseconds: 1_764_890_363_123)
        #expect(RFC3339.string(from: date) == "2025-12-04T23:19:23.123Z")
        #expect(try #require(RFC3339.date(from: RFC3339.string(from: date))).epochMilliseconds == 1_764_890_363_123)
    }
}

@Suite struct HexTests {
    @Test func matchesFormattedBytes() {
        let bytes: [UInt8] = [0, 1, 0x0F, 0x10, 0x7F, 0x80, 0xAB, 0xFF]
        #expect(bytes.lowercaseHex == bytes.map { String(format: "%02x", $0) }.joined())
        #expect([UInt8]().lowercaseHex == "")
    }
}
