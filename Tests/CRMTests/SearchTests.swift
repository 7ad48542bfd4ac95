import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct SearchTests {
    /// (type, title) of the hits for `q`.
    static func hits(_ h: CRMHarness, _ query: String, auth: String = CRMHarness.admin) async throws -> [String] {
        let escaped = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        let reply = try await h.call(.get, "/api/v1/crm/search?q=\(escaped)", auth: auth)
        #expect(reply.status == .ok, "\(reply.body)")
        return (try reply.object()["data"] as? [[String: Any]] ?? []).map { "\($0["type"]!):\($0["title"]!)" }
    }

    @Test(arguments: TestBackend.available)
    func wordsFindLeadsContactsCompaniesAndDealsByPrefix(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(
                #"{"first_name":"Ada","last_name":"Lovelace","email":"ada@engine.example","company":"Analytical Engines"}"#)
            _ = try await h.call(
                .post, "/api/v1/crm/contacts",
                json: #"{"first_name":"Charles","last_name":"Babbage","email":"charles@engine.example"}"#)
            _ = try await h.call(
                .post, "/api/v1/crm/companies", json: #"{"name":"Difference Engines","domain":"difference.example"}"#)
            _ = try await h.deal(#"{"name":"Engine upgrade","value":{"amount_minor":100,"currency":"GBP"}}"#)
            // Another tenant's records are never found.
            _ = try await h.call(
                .post, "/api/v1/crm/leads", json: #"{"first_name":"Ada","last_name":"Engine"}"#,
                auth: CRMHarness.otherAdmin)

            #expect(
                Set(try await Self.hits(h, "engine"))
                    == ["lead:Ada Lovelace", "contact:Charles Babbage", "company:Difference Engines", "deal:Engine upgrade"])
            #expect(try await Self.hits(h, "ada").first == "lead:Ada Lovelace")
            #expect(try await Self.hits(h, "lovelace ADA") == ["lead:Ada Lovelace"])
            #expect(try await Self.hits(h, "Lovel") == ["lead:Ada Lovelace"])
            #expect(try await Self.hits(h, "nobody").isEmpty)
            let companies = try await h.call(.get, "/api/v1/crm/search?q=engine&types=company")
            #expect((try companies.object()["data"] as? [Any])?.count == 1)

            // Kept current by every write.
            #expect(try await h.call(.patch, "/api/v1/crm/leads/\(lead)", json: #"{"last_name":"King"}"#).status == .ok)
            #expect(try await Self.hits(h, "lovelace").isEmpty)
            #expect(try await Self.hits(h, "king") == ["lead:Ada King"])
            #expect(try await h.call(.delete, "/api/v1/crm/leads/\(lead)").status == .noContent)
            #expect(try await Self.hits(h, "king").isEmpty)
        }
    }

    @Test(.enabled(if: TestBackend.available.contains(.postgres), "needs PostgreSQL (scripts/test starts it)"))
    func misspeltNamesAreFoundOnPostgreSQL() async throws {
        try await withCRM(.postgres) { h in
            _ = try await h.lead(#"{"first_name":"Ada","last_name":"Lovelace"}"#)
            _ = try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Initech"}"#)
            #expect(try await Self.hits(h, "Lovelase") == ["lead:Ada Lovelace"])
            #expect(try await Self.hits(h, "Initek") == ["company:Initech"])
        }
    }

    @Test(arguments: TestBackend.available)
    func searchShowsOnlyWhatTheCallerMayReadAndChecksItsParameters(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            _ = try await h.lead(#"{"first_name":"Ada","last_name":"Deal"}"#)
            _ = try await h.deal(#"{"name":"Deal of the year","value":{"amount_minor":100,"currency":"EUR"}}"#)
            #expect(try await Self.hits(h, "deal", auth: CRMHarness.reader) == ["lead:Ada Deal"])
            #expect(try await Self.hits(h, "deal", auth: "Bearer test:dan:crm.deals:read") == ["deal:Deal of the year"])
            #expect(try await h.call(.get, "/api/v1/crm/search?q=deal", auth: "Bearer test:nobody:").status == .forbidden)
            for query in ["", "q=", "q=a&types=robots", "q=a&limit=0", "q=" + String(repeating: "a", count: 201)] {
                #expect(try await h.call(.get, "/api/v1/crm/search?\(query)").status == .badRequest, "\(query)")
            }
            // Punctuation alone is no words: nothing found, no error.
            #expect(try await Self.hits(h, "\"*()").isEmpty)
        }
    }
}
