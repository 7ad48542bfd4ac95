import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct LeadListTests {
    /// Pages through `path` (which has its own query) `limit` at a time; every page's ids in order.
    static func pages(_ h: CRMHarness, _ path: String, limit: Int) async throws -> [[String]] {
        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let url = "\(path)\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let reply = try await h.call(.get, url)
            #expect(reply.status == .ok, "\(reply.body)")
            pages.append(try reply.ids())
            cursor = try reply.object()["next_cursor"] as? String
        } while cursor != nil && pages.count < 20
        return pages
    }

    @Test(arguments: TestBackend.available)
    func everySortPagesThroughEveryLeadOnceInOrder(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            // Names and scores that tie, so the id must break ties for the keyset to hold.
            let people = [
                ("ann", "smith", 10), ("bob", "jones", 50), ("cat", "smith", 50), ("dan", "adams", 90),
                ("eve", "jones", 10), ("fay", "brown", 70), ("gus", "smith", 10),
            ]
            var ids: [String: (first: String, last: String, score: Int)] = [:]
            for (first, last, score) in people {
                let id = try await h.lead(#"{"first_name":"\#(first)","last_name":"\#(last)","score":\#(score)}"#)
                ids[id] = (first, last, score)
            }
            let byName = ids.keys.sorted { a, b in
                let x = ids[a]!, y = ids[b]!
                return ("\(x.last) \(x.first)", a) < ("\(y.last) \(y.first)", b)
            }
            let nameAscending = try await Self.pages(h, "/api/v1/crm/leads?sort=name", limit: 3)
            #expect(nameAscending.map(\.count) == [3, 3, 1])
            #expect(nameAscending.flatMap { $0 } == byName)
            let byScore = ids.keys.sorted { a, b in (ids[a]!.score, a) > (ids[b]!.score, b) }
            let scoreDescending = try await Self.pages(h, "/api/v1/crm/leads?sort=-score", limit: 2)
            #expect(scoreDescending.flatMap { $0 } == byScore)
            let newestFirst = try await Self.pages(h, "/api/v1/crm/leads", limit: 4)
            #expect(Set(newestFirst.flatMap { $0 }) == Set(ids.keys))
            #expect(newestFirst.flatMap { $0 }.count == ids.count)
        }
    }

    @Test(arguments: TestBackend.available)
    func filtersCombineAndTotalsCountEveryMatch(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let hot = try await h.lead(
                #"{"last_name":"Hot","company":"Big 100% Corp","tags":["hot"],"score":80,"source":"website"}"#)
            _ = try await h.lead(#"{"last_name":"Cold","company":"Small","tags":["cold"],"score":5}"#)
            let contacted = try await h.lead(#"{"last_name":"Warm","email":"warm@example.com","tags":["hot"]}"#)
            try await h.call(.patch, "/api/v1/crm/leads/\(contacted)", json: #"{"status":"contacted"}"#)

            func ids(_ query: String) async throws -> Set<String> {
                let reply = try await h.call(.get, "/api/v1/crm/leads?\(query)")
                #expect(reply.status == .ok, "\(query): \(reply.body)")
                return Set(try reply.ids())
            }
            #expect(try await ids("tag=HOT") == [hot, contacted])
            #expect(try await ids("tag=hot&status=contacted") == [contacted])
            #expect(try await ids("status=new,contacted&score_min=50") == [hot])
            #expect(try await ids("source=website") == [hot])
            #expect(try await ids("q=100%25") == [hot], "a % in the text is a character, not a wildcard")
            #expect(try await ids("q=WARM@") == [contacted])
            #expect(try await ids("email=Warm@Example.com") == [contacted])
            let total = try await h.call(.get, "/api/v1/crm/leads?tag=hot&limit=1&include_total=true")
            #expect(try total.object()["total"] as? Int == 2)
            #expect(try total.ids().count == 1)

            let bad = try await h.call(.get, "/api/v1/crm/leads?status=won&sort=price&score_min=x&created_after=monday")
            #expect(bad.status == .badRequest)
            #expect(try bad.errorFields() == ["created_after", "score_min", "sort", "status"])
            #expect(try await h.call(.get, "/api/v1/crm/leads?cursor=bm9wZQ").status == .badRequest)
            #expect(try await h.call(.get, "/api/v1/crm/leads?limit=500").status == .badRequest)
        }
    }

    @Test(arguments: TestBackend.available)
    func customFieldsAreTypedCheckedAndFilterable(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            for json in [
                #"{"entity":"lead","key":"budget","label":"Budget","type":"number"}"#,
                #"{"entity":"lead","key":"tier","label":"Tier","type":"select","options":["gold","silver"]}"#,
                #"{"entity":"lead","key":"partner","label":"Partner","type":"boolean"}"#,
                #"{"entity":"lead","key":"met_on","label":"Met on","type":"date"}"#,
            ] {
                let reply = try await h.call(.post, "/api/v1/crm/custom-fields", json: json)
                #expect(reply.status == .created, "\(reply.body)")
            }
            let duplicateKey = try await h.call(
                .post, "/api/v1/crm/custom-fields", json: #"{"entity":"lead","key":"tier","label":"T","type":"text"}"#)
            #expect(duplicateKey.status == .conflict)
            let badDefinition = try await h.call(
                .post, "/api/v1/crm/custom-fields",
                json: #"{"entity":"invoice","key":"Bad Key","label":"","type":"select"}"#)
            #expect(try badDefinition.errorFields() == ["entity", "key", "label", "options"])

            let gold = try await h.lead(
                #"{"last_name":"Gold","custom_fields":{"budget":5000,"tier":"gold","partner":true,"met_on":"2026-03-01"}}"#)
            let silver = try await h.lead(
                #"{"last_name":"Silver","custom_fields":{"budget":120.5,"tier":"silver","partner":false}}"#)
            let wrong = try await h.call(
                .post, "/api/v1/crm/leads",
                json: #"{"last_name":"W","custom_fields":{"budget":"lots","tier":"bronze","color":"red","met_on":"2026-02-30"}}"#
            )
            #expect(wrong.status == .unprocessableContent)
            #expect(
                try wrong.errorFields() == [
                    "custom_fields.budget", "custom_fields.color", "custom_fields.met_on", "custom_fields.tier",
                ])

            func ids(_ query: String) async throws -> Set<String> {
                let reply = try await h.call(.get, "/api/v1/crm/leads?\(query)")
                #expect(reply.status == .ok, "\(query): \(reply.body)")
                return Set(try reply.ids())
            }
            #expect(try await ids("cf.tier=gold") == [gold])
            #expect(try await ids("cf.budget=120.5") == [silver])
            #expect(try await ids("cf.budget=5000") == [gold])
            #expect(try await ids("cf.partner=false") == [silver])
            #expect(try await ids("cf.met_on=2026-03-01") == [gold])
            #expect(try await h.call(.get, "/api/v1/crm/leads?cf.color=red").status == .badRequest)
            #expect(try await h.call(.get, "/api/v1/crm/leads?cf.budget=lots").status == .badRequest)

            // null removes a value; the others stay.
            let cleared = try await h.call(
                .patch, "/api/v1/crm/leads/\(gold)", json: #"{"custom_fields":{"tier":null}}"#)
            let fields = try #require(try cleared.object()["custom_fields"] as? [String: Any])
            #expect(fields["tier"] == nil)
            #expect(fields["budget"] as? Int == 5000)
            #expect(try await ids("cf.tier=gold").isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func aTenantHasAtMostTwentyCustomFieldsPerKindOfRecord(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            for number in 1...CustomField.maximum {
                let reply = try await h.call(
                    .post, "/api/v1/crm/custom-fields",
                    json: #"{"entity":"lead","key":"f\#(number)","label":"F","type":"text"}"#)
                #expect(reply.status == .created)
            }
            let over = try await h.call(
                .post, "/api/v1/crm/custom-fields", json: #"{"entity":"lead","key":"f21","label":"F","type":"text"}"#)
            #expect(over.status == .conflict)
            let company = try await h.call(
                .post, "/api/v1/crm/custom-fields",
                json: #"{"entity":"company","key":"f21","label":"F","type":"text"}"#)
            #expect(company.status == .created)
        }
    }

    /// A form's blank fields are no filters (the web app's filter form sends them all).
    @Test(arguments: TestBackend.available)
    func blankParametersAreNoFilters(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let id = try await h.lead(#"{"first_name":"Ada"}"#)
            #expect(try await h.call(.get, "/api/v1/crm/leads?q=&tag=&status=new&source=&owner_id=").ids() == [id])
        }
    }
}
