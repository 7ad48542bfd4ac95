import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct CompanyContactTests {
    @Test(arguments: [
        ("https://www.Acme.example/about?x=1", "acme.example"), ("acme.example.", "acme.example"),
        ("sales@eu.acme.example", "eu.acme.example"), ("ACME.co.uk:443", "acme.co.uk"),
    ])
    func domainsAreTheHostPartLowerCased(_ text: String, _ expected: String) {
        #expect(Company.domain(from: text) == expected)
    }

    @Test(arguments: ["acme", "-acme.example", "acme..example", "ac me.example", ""])
    func otherTextIsNoDomain(_ text: String) {
        #expect(Company.domain(from: text) == nil)
    }

    @Test(arguments: TestBackend.available)
    func companiesAreUniqueByDomainAndValidated(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let created = try await h.call(
                .post, "/api/v1/crm/companies",
                json: #"{"name":"Acme","domain":"https://www.acme.example/","employees":120,"phone":"+1 415 555 0100"}"#)
            #expect(created.status == .created, "\(created.body)")
            let company = try created.object()
            let id = try #require(company["id"] as? String)
            #expect(company["domain"] as? String == "acme.example")
            #expect(company["phone"] as? String == "+14155550100")
            let taken = try await h.call(
                .post, "/api/v1/crm/companies", json: #"{"name":"Acme Again","domain":"ACME.example"}"#)
            #expect(taken.status == .conflict)
            #expect(try taken.object()["existing_id"] as? String == id)
            #expect(try taken.object()["field"] as? String == "domain")
            let invalid = try await h.call(
                .post, "/api/v1/crm/companies", json: #"{"domain":"nowhere","employees":-1}"#)
            #expect(invalid.status == .unprocessableContent)
            #expect(try invalid.errorFields() == ["domain", "employees"])
            let nameless = try await h.call(.post, "/api/v1/crm/companies", json: #"{"industry":"Retail"}"#)
            #expect(try nameless.errorFields() == ["name"])
            let cleared = try await h.call(.patch, "/api/v1/crm/companies/\(id)", json: #"{"name":null}"#)
            #expect(try cleared.errorFields() == ["name"])
            let notALeadFilter = try await h.call(.get, "/api/v1/crm/companies?status=new&sort=score")
            #expect(notALeadFilter.status == .badRequest)
            #expect(try notALeadFilter.errorFields() == ["sort", "status"])
            #expect(try await h.call(.get, "/api/v1/crm/companies?q=ACME.ex").ids() == [id])
            #expect(try await h.eventTypes() == ["crm.company.created"])
        }
    }

    @Test(arguments: TestBackend.available)
    func contactsBelongToACompanyOfTheirTenantAndOutliveIt(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let company = try #require(
                try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Initech"}"#).object()["id"] as? String)
            let theirs = try #require(
                try await h.call(
                    .post, "/api/v1/crm/companies", json: #"{"name":"Other"}"#, auth: CRMHarness.otherAdmin
                ).object()["id"] as? String)
            let peter = try await h.call(
                .post, "/api/v1/crm/contacts",
                json: #"{"first_name":"Peter","last_name":"Gibbons","email":"peter@initech.example","company_id":"\#(company)"}"#
            )
            #expect(peter.status == .created, "\(peter.body)")
            let peterID = try #require(try peter.object()["id"] as? String)
            let milton = try await h.call(
                .post, "/api/v1/crm/contacts", json: #"{"last_name":"Waddams","company_id":"\#(company)"}"#)
            let miltonID = try #require(try milton.object()["id"] as? String)
            _ = try await h.call(.post, "/api/v1/crm/contacts", json: #"{"last_name":"Lumbergh"}"#)

            let foreign = try await h.call(
                .post, "/api/v1/crm/contacts", json: #"{"last_name":"Spy","company_id":"\#(theirs)"}"#)
            #expect(foreign.status == .unprocessableContent, "another tenant's company is no company")
            #expect(try foreign.errorFields() == ["company_id"])
            let sameEmail = try await h.call(
                .post, "/api/v1/crm/contacts", json: #"{"last_name":"Copy","email":"PETER@initech.example"}"#)
            #expect(sameEmail.status == .conflict)
            #expect(try sameEmail.object()["existing_id"] as? String == peterID)

            let ofCompany = try await h.call(.get, "/api/v1/crm/contacts?company_id=\(company)&sort=name")
            #expect(try ofCompany.ids() == [peterID, miltonID])

            #expect(try await h.call(.delete, "/api/v1/crm/companies/\(company)").status == .noContent)
            let orphan = try await h.call(.get, "/api/v1/crm/contacts/\(peterID)")
            #expect(try orphan.object()["company_id"] is NSNull)
            #expect(try orphan.object()["version"] as? Int == 2)
            #expect(try await h.call(.get, "/api/v1/crm/contacts?company_id=\(company)").ids().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func anotherTenantsCompaniesAndContactsAreNotFound(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let company = try #require(
                try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Mine"}"#).object()["id"] as? String)
            let contact = try #require(
                try await h.call(.post, "/api/v1/crm/contacts", json: #"{"last_name":"Mine"}"#).object()["id"]
                    as? String)
            let other = CRMHarness.otherAdmin
            for path in ["/api/v1/crm/companies/\(company)", "/api/v1/crm/contacts/\(contact)"] {
                #expect(try await h.call(.get, path, auth: other).status == .notFound)
                #expect(try await h.call(.patch, path, json: #"{"notes":"x"}"#, auth: other).status == .notFound)
                #expect(try await h.call(.delete, path, auth: other).status == .notFound)
                #expect(try await h.call(.get, path).object()["version"] as? Int == 1)
            }
            #expect(try await h.call(.get, "/api/v1/crm/companies", auth: other).ids().isEmpty)
            #expect(try await h.call(.get, "/api/v1/crm/contacts", auth: other).ids().isEmpty)
        }
    }
}
