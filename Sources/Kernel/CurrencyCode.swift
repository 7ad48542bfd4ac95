/// A three-letter ISO 4217 currency code, upper case.
package struct CurrencyCode: Hashable, Sendable, Codable, CustomStringConvertible {
    package let code: String

    /// Accepts exactly three ASCII letters and normalises them to upper case.
    package init?(_ text: String) {
        guard text.count == 3, text.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        self.code = text.uppercased()
    }

    package var description: String { code }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = CurrencyCode(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 4217 code")
        }
        self = value
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
