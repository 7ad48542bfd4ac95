import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

/// Deletions of linked records, races between requests, and the edges of deals and pipelines.
@Suite struct CRMEdgeTests {
    @Test(arguments: TestBackend.available)
    func deletingAContactOrCompanyLeavesItsDealsEditable(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let pipeline = try await h.defaultPipeline()
            let company = try #require(
                try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Gone"}"#).object()["id"] as? String)
            let keep = try await h.call(.post, "/api/v1/crm/contacts", json: #"{"last_name":"Keep"}"#).object()["id"] as! String
            let drop = try await h.call(.post, "/api/v1/crm/contacts", json: #"{"last_name":"Drop"}"#).object()["id"] as! String
            let deal = try await h.deal(
                #"{"name":"D","value":{"amount_minor":5,"currency":"EUR"},"company_id":"\#(company)","contact_ids":["\#(keep)","\#(drop)"]}"#)
            let id = try #require(deal["id"] as? String)
            #expect(try await h.call(.delete, "/api/v1/crm/contacts/\(drop)").status == .noContent)
            #expect(try await h.call(.delete, "/api/v1/crm/companies/\(company)").status == .noContent)
            let after = try await h.call(.get, "/api/v1/crm/deals/\(id)").object()
            #expect(after["contact_ids"] as? [String] == [keep])
            #expect(after["company_id"] is NSNull)
            #expect(after["version"] as? Int == 3)
            let moved = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(pipeline.stages["Won"]!)"}"#)
            #expect(moved.status == .ok, "\(moved.body)")
            #expect(try await h.eventTypes().filter { $0 == "crm.deal.updated" }.count == 3)
        }
    }

    @Test(arguments: TestBackend.available)
    func dealEdges(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let sales = try await h.defaultPipeline()
            let renewals = try await h.call(
                .post, "/api/v1/crm/pipelines",
                json: #"{"name":"Renewals","stages":[{"name":"Due","probability":60},{"name":"Renewed","probability":100,"kind":"won"},{"name":"Churned","probability":0,"kind":"lost"}]}"#
            ).object()
            let due = try #require((renewals["stages"] as? [[String: Any]])?.first?["id"] as? String)
            let deal = try await h.deal(#"{"name":"D","value":{"amount_minor":5,"currency":"EUR"},"probability":30}"#)
            let id = try #require(deal["id"] as? String)
            #expect(deal["probability"] as? Int == 30, "a probability given on creation stays")
            // A probability sent with a move is kept even when it equals the old one.
            let kept = try await h.call(
                .patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(sales.stages["Proposal"]!)","probability":30}"#)
            #expect(try kept.object()["probability"] as? Int == 30)
            // A stage of another pipeline takes the deal there.
            let elsewhere = try await h.call(.patch, "/api/v1/crm/deals/\(id)", json: #"{"stage_id":"\#(due)"}"#)
            #expect(try elsewhere.object()["pipeline_id"] as? String == renewals["id"] as? String)
            #expect(try elsewhere.object()["probability"] as? Int == 60)
            let huge = try await h.call(
                .post, "/api/v1/crm/deals", json: #"{"name":"X","value":{"amount_minor":1000000000000001,"currency":"EUR"}}"#)
            #expect(try huge.errorFields() == ["value"])
            // A patch that changes nothing records nothing.
            let audits = try await h.auditActions().count
            let same = try await h.call(.patch, "/api/v1/crm/deals/\(id)", json: #"{"name":"D"}"#)
            #expect(same.status == .ok)
            #expect(try await h.auditActions().count == audits)
            // A stage given twice is refused.
            let lead = sales.stages["Lead"]!
            let twice = try await h.call(
                .patch, "/api/v1/crm/pipelines/\(sales.id)",
                json: #"{"stages":[{"id":"\#(lead)","name":"A","probability":1},{"id":"\#(lead)","name":"B","probability":1},{"id":"\#(sales.stages["Won"]!)","name":"Won","probability":100},{"id":"\#(sales.stages["Lost"]!)","name":"Lost","probability":0}]}"#
            )
            #expect(twice.status == .unprocessableContent)
            // Another tenant's pipeline and board are not found.
            #expect(try await h.call(.get, "/api/v1/crm/pipelines/\(sales.id)/board", auth: CRMHarness.otherAdmin).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/pipelines/\(sales.id)", auth: CRMHarness.otherAdmin).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/deals/\(id)", auth: CRMHarness.otherAdmin).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.available)
    func aConvertedLeadIsReadOnlyAndCanBeListedApart(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let id = try await ConversionTests.qualifiedLead(h, #"{"last_name":"Done"}"#)
            let open = try await h.lead(#"{"last_name":"Open"}"#)
            #expect(try await h.call(.post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":null}"#).status == .ok)
            #expect(try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"notes":"x"}"#).status == .conflict)
            #expect(try await h.call(.get, "/api/v1/crm/leads?converted=false").ids() == [open])
            #expect(try await h.call(.get, "/api/v1/crm/leads?converted=true").ids() == [id])
        }
    }

    @Test(arguments: TestBackend.available)
    func racingRequestsMakeOneRecordEach(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            // Five first requests for the pipelines of a new tenant make one default pipeline.
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<5 { group.addTask { try await h.call(.get, "/api/v1/crm/pipelines").status } }
                for try await status in group { #expect(status == .ok) }
            }
            let pipelines = try await h.call(.get, "/api/v1/crm/pipelines").object()["data"] as? [Any]
            #expect(pipelines?.count == 1)
            // Five creates with one address: one lead.
            let created = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        try await h.call(.post, "/api/v1/crm/leads", json: #"{"last_name":"R\#(index)","email":"race@x.example"}"#).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(created.filter { $0 == .created }.count == 1)
            #expect(created.filter { $0 == .conflict }.count == 4)
            // Five conversions of one lead: one.
            let lead = try await ConversionTests.qualifiedLead(h, #"{"last_name":"Once","company":"Once Ltd"}"#)
            let converted = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        try await h.call(
                            .post, "/api/v1/crm/leads/\(lead)/convert",
                            json: #"{"deal":{"value":{"amount_minor":1,"currency":"EUR"}}}"#
                        ).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(converted.filter { $0 == .ok }.count == 1)
            #expect(converted.filter { $0 == .conflict }.count == 4)
            #expect(try await h.call(.get, "/api/v1/crm/deals?include_total=true").object()["total"] as? Int == 1)
            #expect(try await h.call(.get, "/api/v1/crm/companies?include_total=true").object()["total"] as? Int == 1)
        }
    }
}
