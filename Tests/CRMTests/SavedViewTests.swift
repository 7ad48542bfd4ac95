import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct SavedViewTests {
    static let bob = "Bearer test:bob:crm.leads:read,crm.leads:write"

    @Test(arguments: TestBackend.available)
    func aUserSavesViewsAndSharesSome(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let created = try await h.call(
                .post, "/api/v1/crm/views",
                json: #"{"entity":"lead","name":"Hot new leads","query":"status=new&score_min=50&sort=-score"}"#)
            #expect(created.status == .created, "\(created.body)")
            let view = try created.object()
            let id = try #require(view["id"] as? String)
            #expect(view["owner_id"] as? String == "ann")
            #expect(view["shared"] as? Bool == false)
            // Bob does not see Ann's private view, until she shares it; he cannot change it.
            #expect(try await h.call(.get, "/api/v1/crm/views?entity=lead", auth: Self.bob).ids() == [])
            #expect(try await h.call(.get, "/api/v1/crm/views/\(id)", auth: Self.bob).status == .notFound)
            let shared = try await h.call(.patch, "/api/v1/crm/views/\(id)", json: #"{"shared":true}"#)
            #expect(shared.status == .ok, "\(shared.body)")
            #expect(try await h.call(.get, "/api/v1/crm/views?entity=lead", auth: Self.bob).ids() == [id])
            #expect(
                try await h.call(.patch, "/api/v1/crm/views/\(id)", json: #"{"name":"Mine"}"#, auth: Self.bob).status
                    == .forbidden)
            #expect(try await h.call(.delete, "/api/v1/crm/views/\(id)", auth: Self.bob).status == .forbidden)
            // Bob's own view of the same name is fine; Ann's second one is not.
            let bobs = try await h.call(
                .post, "/api/v1/crm/views", json: #"{"entity":"lead","name":"Hot new leads","query":""}"#, auth: Self.bob)
            #expect(bobs.status == .created)
            let again = try await h.call(
                .post, "/api/v1/crm/views", json: #"{"entity":"lead","name":"hot NEW leads"}"#)
            #expect(again.status == .conflict)
            // Another tenant sees nothing of it.
            #expect(try await h.call(.get, "/api/v1/crm/views/\(id)", auth: CRMHarness.otherAdmin).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/views", auth: CRMHarness.otherAdmin).ids() == [])
            #expect(try await h.call(.delete, "/api/v1/crm/views/\(id)").status == .noContent)
            #expect(try await h.auditActions().suffix(3) == ["crm.view.updated", "crm.view.created", "crm.view.deleted"])
        }
    }

    @Test(arguments: TestBackend.available)
    func aViewsQueryIsCheckedAsTheListChecksIt(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            for query in [
                "status=new&status=new", "cursor=abc", "pipeline_id=x", "score_min=500", "sort=colour",
                "cf.region=EU", "limit=1000", "robots=yes",
            ] {
                let reply = try await h.call(
                    .post, "/api/v1/crm/views", json: #"{"entity":"lead","name":"v","query":"\#(query)"}"#)
                #expect(reply.status == .unprocessableContent, "\(query): \(reply.body)")
                #expect(try reply.errorFields() == ["query"], "\(query)")
            }
            let deals = try await h.call(
                .post, "/api/v1/crm/views", json: #"{"entity":"deal","name":"Open","query":"status=open&sort=name"}"#)
            #expect(deals.status == .created, "\(deals.body)")
            // Deals' views need the deals permission.
            #expect(
                try await h.call(
                    .post, "/api/v1/crm/views", json: #"{"entity":"deal","name":"Open"}"#, auth: CRMHarness.reader
                ).status == .forbidden)
            #expect(try await h.call(.post, "/api/v1/crm/views", json: #"{"name":"x"}"#).status == .unprocessableContent)
        }
    }

    @Test(arguments: TestBackend.available)
    func aViewWithoutAQueryAndAnAccentedName(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let reply = try await h.call(.post, "/api/v1/crm/views", json: #"{"entity":"contact","name":"\u00d6"}"#)
            #expect(reply.status == .created, "\(reply.body)")
            // The same name again is a 409 (compared as the database lower-cases, whatever its locale).
            let again = try await h.call(.post, "/api/v1/crm/views", json: #"{"entity":"contact","name":"\u00d6"}"#)
            #expect(again.status == .conflict, "\(again.body)")
            #expect(try await h.call(.get, "/api/v1/crm/contacts?email=a%00b").status == .badRequest)
        }
    }
}
