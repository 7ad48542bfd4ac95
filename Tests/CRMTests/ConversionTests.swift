import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct ConversionTests {
    /// A qualified lead's id.
    static func qualifiedLead(_ h: CRMHarness, _ json: String) async throws -> String {
        let id = try await h.lead(json)
        for status in ["contacted", "qualified"] {
            let reply = try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"status":"\#(status)"}"#)
            #expect(reply.status == .ok, "\(reply.body)")
        }
        return id
    }

    @Test(arguments: TestBackend.available)
    func aQualifiedLeadBecomesContactCompanyAndDealOnce(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let id = try await Self.qualifiedLead(
                h, #"{"first_name":"Ada","last_name":"Lovelace","email":"ada@engine.example","company":"Analytical Engines","tags":["vip"]}"#)
            let converted = try await h.call(
                .post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":{"value":{"amount_minor":990000,"currency":"GBP"}}}"#)
            #expect(converted.status == .ok, "\(converted.body)")
            let result = try converted.object()
            let contact = try #require(result["contact"] as? [String: Any])
            let company = try #require(result["company"] as? [String: Any])
            let deal = try #require(result["deal"] as? [String: Any])
            let lead = try #require(result["lead"] as? [String: Any])
            #expect(contact["email"] as? String == "ada@engine.example")
            #expect(contact["company_id"] as? String == company["id"] as? String)
            #expect(contact["tags"] as? [String] == ["vip"])
            #expect(company["name"] as? String == "Analytical Engines")
            #expect(deal["name"] as? String == "Analytical Engines")
            #expect(deal["lead_id"] as? String == id)
            #expect(deal["contact_ids"] as? [String] == [contact["id"] as! String])
            #expect(lead["deal_id"] as? String == deal["id"] as? String)
            #expect(!(lead["converted_at"] is NSNull))

            let again = try await h.call(.post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":null}"#)
            #expect(again.status == .conflict)
            #expect(try await h.call(.get, "/api/v1/crm/deals?include_total=true").object()["total"] as? Int == 1)
            let types = try await h.eventTypes()
            #expect(
                Array(types.suffix(4)) == [
                    "crm.company.created", "crm.contact.created", "crm.deal.created", "crm.lead.converted",
                ])
            #expect(try await h.auditActions().last == "crm.lead.converted")
        }
    }

    @Test(arguments: TestBackend.available)
    func conversionReusesTheContactAndCompanyThatExist(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let company = try #require(
                try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Initech"}"#).object()["id"] as? String)
            let contact = try #require(
                try await h.call(.post, "/api/v1/crm/contacts", json: #"{"last_name":"Gibbons","email":"PETER@initech.example"}"#)
                    .object()["id"] as? String)
            let id = try await Self.qualifiedLead(
                h, #"{"last_name":"Gibbons","email":"peter@initech.example","company":"INITECH"}"#)
            let converted = try await h.call(.post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":null}"#)
            #expect(converted.status == .ok, "\(converted.body)")
            let result = try converted.object()
            #expect((result["contact"] as? [String: Any])?["id"] as? String == contact)
            #expect((result["company"] as? [String: Any])?["id"] as? String == company)
            #expect(result["deal"] is NSNull)
            #expect(try await h.call(.get, "/api/v1/crm/contacts?include_total=true").object()["total"] as? Int == 1)
            #expect(try await h.call(.get, "/api/v1/crm/companies?include_total=true").object()["total"] as? Int == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func onlyQualifiedLeadsConvertAndBadDealsChangeNothing(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let fresh = try await h.lead(#"{"last_name":"New","company":"Fresh Ltd"}"#)
            let early = try await h.call(.post, "/api/v1/crm/leads/\(fresh)/convert", json: #"{"deal":null}"#)
            #expect(early.status == .unprocessableContent)
            #expect(try early.errorFields() == ["status"])
            let id = try await Self.qualifiedLead(h, #"{"last_name":"Ready","company":"Ready Ltd"}"#)
            let noDeal = try await h.call(.post, "/api/v1/crm/leads/\(id)/convert", json: #"{}"#)
            #expect(try noDeal.errorFields() == ["deal"])
            let badDeal = try await h.call(
                .post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":{"value":{"amount_minor":-1,"currency":"EUR"}}}"#)
            #expect(badDeal.status == .unprocessableContent)
            #expect(try badDeal.errorFields() == ["deal.value"])
            // The failed conversion rolled back: no company, contact or deal, and the lead converts later.
            #expect(try await h.call(.get, "/api/v1/crm/companies").ids().isEmpty)
            #expect(try await h.call(.get, "/api/v1/crm/contacts").ids().isEmpty)
            let other = try await h.call(
                .post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":null}"#, auth: CRMHarness.otherAdmin)
            #expect(other.status == .notFound)
            let ok = try await h.call(.post, "/api/v1/crm/leads/\(id)/convert", json: #"{"deal":null}"#)
            #expect(ok.status == .ok)
        }
    }
}
