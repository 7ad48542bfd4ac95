/// An amount of money in integer minor units (cents) of an ISO 4217 currency. Never floating point.
package struct Money: Hashable, Sendable, Codable, JSONObject {
    package let amountMinor: Int64
    package let currency: CurrencyCode

    package init(amountMinor: Int64, currency: CurrencyCode) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case amountMinor = "amount_minor"
        case currency
    }

    package func writeFields(to fields: inout some JSONFields) throws {
        try fields.field("amount_minor", amountMinor)
        try fields.field("currency", currency.code)
    }

    package func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

    /// Adds two amounts of the same currency; throws on a currency mismatch or overflow.
    package func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = amountMinor.addingReportingOverflow(other.amountMinor)
        guard !overflow else { throw .overflow }
        return Money(amountMinor: sum, currency: currency)
    }
}
