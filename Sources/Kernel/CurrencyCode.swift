/// A three-letter ISO 4217 currency code, upper case.
package struct CurrencyCode: Hashable, Sendable, TextCodable {
    package let code: String

    /// Accepts exactly three ASCII letters and normalises them to upper case.
    package init?(_ text: String) {
        guard text.count == 3, text.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        self.code = text.uppercased()
    }

    package var description: String { code }
}
