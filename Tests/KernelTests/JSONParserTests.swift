import Foundation
import Kernel
import Testing

/// `JSONValue(parsing:)` reads what `JSONDecoder` reads, and refuses what it refuses.
@Suite struct JSONParserTests {
    static let documents = [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-2.5,"g":1e3,"h":"\u00e9\n\"\\\/","i":[]}"#,
        #"  [ 1 , "two" , { "three" : 3 } ]  "#, "0", "-0", "123456789012345678", "1.5E-7", "\"\"", "[[[[]]]]",
        #""\ud83c\udf89 emoji""#, #"{"dup":1,"dup":2}"#, "9223372036854775807", "-9223372036854775808",
        "92233720368547758070", #"{"ünï":"cödé ✓"}"#, "true", "null", #"{"k":{"nested":[{"x":0.1}]}}"#,
    ]

    @Test func readsWhatJSONDecoderReads() throws {
        for text in Self.documents {
            let parsed = try JSONValue(parsing: text)
            let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            // Both render the same text (an integral number may be .integer on one side and .number on the other).
            #expect(try parsed.encodedText() == decoded.encodedText(), "\(text)")
        }
        #expect(try JSONValue(parsing: #""\ud83c\udf89 emoji""#) == .string("🎉 emoji"))
        #expect(try JSONValue(parsing: "[1, 2.5]") == [.integer(1), .number(2.5)])
    }

    @Test func refusesWhatIsNotJSON() {
        let bad = [
            "", " ", "{", "[1,]", #"{"a":1,}"#, "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", #"{"a" 1}"#, #"{a:1}"#,
            "\"unterminated", "\"tab\there\"", #""\x""#, #""\ud83c""#, #""\udf89""#, "[1] 2", "NaN", "1e999",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for text in bad {
            #expect(throws: JSONValue.ParseError.self, "\(text.prefix(20))") { try JSONValue(parsing: text) }
        }
    }

    @Test func envelopesRoundTripAndMatchJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (subject, traceparent) in [("lead/1", "00-abc-def-01"), (nil, nil)] as [(String?, String?)] {
            let envelope = EventEnvelope(
                source: "/crm", type: "crm.lead.created", subject: subject, tenant: TenantID(UUID()),
                traceparent: traceparent, data: try JSONDocument(encoding: ["name": "Ada \"L\"", "tags": "a/b"]))
            #expect(envelope.jsonText == String(decoding: try encoder.encode(envelope), as: UTF8.self))
            #expect(try EventEnvelope(jsonText: envelope.jsonText) == envelope)
            #expect(try JSONDecoder().decode(EventEnvelope.self, from: Data(envelope.jsonText.utf8)) == envelope)
            // As PostgreSQL renders a jsonb column: spaces, keys reordered.
            let object = try JSONValue(parsing: envelope.jsonText)
            guard case .object(let members) = object else { Issue.record("not an object"); continue }
            let rendered =
                "{"
                + members.keys.sorted { $0.count < $1.count }.map {
                    "\"\($0)\": \(try! members[$0]!.encodedText())"
                }.joined(separator: ", ") + "}"
            #expect(try EventEnvelope(jsonText: rendered) == envelope)
        }
        #expect(throws: (any Error).self) { try EventEnvelope(jsonText: #"{"id":"x"}"#) }
        #expect(throws: (any Error).self) { try EventEnvelope(jsonText: "[]") }
    }
}
