import Foundation
import Kernel
import Testing

@Suite struct UUIDv7Tests {
    @Test func hasVersionSevenAndRFCVariant() {
        let id = UUID.v7()
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 0b10)
    }

    @Test func idsMadeLaterSortAfterEarlierOnes() {
        let earlier = UUID.v7(now: Date(timeIntervalSince1970: 1_000))
        let later = UUID.v7(now: Date(timeIntervalSince1970: 1_001))
        #expect(earlier.lowercasedString < later.lowercasedString)
    }

    /// Ids made one after another sort in that order, also within one millisecond (many are made per millisecond
    /// here, so the counter and its overflow into the next millisecond are both used).
    @Test func idsMadeInOneMillisecondSortInTheOrderTheyWereMade() {
        let ids = (0..<20_000).map { _ in UUID.v7().lowercasedString }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        let now = Date()
        let same = (0..<5_000).map { _ in UUID.v7(now: now).lowercasedString }
        #expect(zip(same, same.dropFirst()).allSatisfy { $0 < $1 })
        for id in same.prefix(3) + same.suffix(3) {
            let bytes = withUnsafeBytes(of: UUID(uuidString: id)!.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 7 && bytes[8] >> 6 == 0b10)
        }
    }

    @Test func invalidTextIsADecodingError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([TenantID].self, from: Data(#"["nope"]"#.utf8)) }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([CurrencyCode].self, from: Data(#"["EURO"]"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([Permission].self, from: Data(#"["crm"]"#.utf8))
        }
    }

    @Test func tenantIDRoundTripsThroughJSONAsLowerCaseText() throws {
        let tenant = TenantID.generate()
        let data = try JSONEncoder().encode([tenant])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(tenant.description)\"]")
        #expect(try JSONDecoder().decode([TenantID].self, from: data) == [tenant])
    }
}

@Suite struct MoneyTests {
    let eur = CurrencyCode("eur")!

    @Test func encodesAsMinorUnitsAndCurrency() throws {
        let data = try JSONEncoder().encode(Money(amountMinor: 12345, currency: eur))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["amount_minor"] as? Int == 12345)
        #expect(object?["currency"] as? String == "EUR")
    }

    @Test func addingDifferentCurrenciesIsRefused() {
        #expect(throws: MoneyError.currencyMismatch(eur, CurrencyCode("USD")!)) {
            try Money(amountMinor: 1, currency: eur).adding(Money(amountMinor: 1, currency: CurrencyCode("USD")!))
        }
    }

    @Test func additionOverflowIsRefused() {
        #expect(throws: MoneyError.overflow) {
            try Money(amountMinor: .max, currency: eur).adding(Money(amountMinor: 1, currency: eur))
        }
    }

    @Test(arguments: ["EU", "EURO", "E1R", ""]) func invalidCurrencyCodesAreRejected(_ text: String) {
        #expect(CurrencyCode(text) == nil)
    }
}

@Suite struct PermissionTests {
    @Test func parsesResourceAndAction() {
        let text = "crm.leads:write"
        let permission = Permission(text)
        #expect(permission?.resource == "crm.leads")
        #expect(permission?.action == "write")
    }

    @Test(arguments: ["crm", "crm:", ":write", "CRM:write", "crm:write:extra", "crm leads:write"])
    func rejectsMalformedStrings(_ text: String) {
        #expect(Permission(text) == nil)
    }
}

@Suite struct PaginationTests {
    @Test func cursorRoundTripsItsPosition() {
        let cursor = Cursor(position: "2026-11-25T00:00:00Z|0193a1b2")
        #expect(Cursor(token: cursor.token)?.position == "2026-11-25T00:00:00Z|0193a1b2")
        #expect(!cursor.token.contains("="))
    }

    @Test func garbageCursorIsRejected() {
        #expect(Cursor(token: "%%%") == nil)
        #expect(Cursor(token: "") == nil)
    }

    @Test func limitDefaultsToFiftyAndCapsAtTwoHundred() {
        #expect(PageLimit(nil)?.value == 50)
        #expect(PageLimit("200")?.value == 200)
        #expect(PageLimit("201") == nil)
        #expect(PageLimit("0") == nil)
        #expect(PageLimit("ten") == nil)
    }

    @Test func pageEncodesNullNextCursor() throws {
        let data = try JSONEncoder().encode(Page(data: [1, 2], nextCursor: nil))
        #expect(String(decoding: data, as: UTF8.self).contains("\"next_cursor\":null"))
    }
}

@Suite struct TimeTests {
    @Test func epochMillisecondsRoundTripExactly() {
        let date = Date(epochMilliseconds: 1_764_028_800_123)
        #expect(date.epochMilliseconds == 1_764_028_800_123)
    }

    @Test func rfc3339IsUTCWithMilliseconds() {
        #expect(RFC3339.string(from: Date(epochMilliseconds: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.date(from: "1970-01-01T00:00:01Z") == Date(timeIntervalSince1970: 1))
    }
}

@Suite struct EventEnvelopeTests {
    @Test func carriesCloudEventsAttributesAndExtensions() throws {
        struct Created: Encodable { let leadID: String }
        let tenant = TenantID.generate()
        let envelope = EventEnvelope(
            source: "/crm", type: "crm.lead.created", subject: "lead/1", tenant: tenant,
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            data: try JSONDocument(encoding: Created(leadID: "1")))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(envelope)) as? [String: Any]
        #expect(object?["specversion"] as? String == "1.0")
        #expect(object?["tenantid"] as? String == tenant.description)
        #expect((object?["data"] as? [String: Any])?["leadID"] as? String == "1")
    }
}
