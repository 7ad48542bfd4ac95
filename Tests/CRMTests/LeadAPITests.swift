import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct LeadAPITests {
    @Test(arguments: TestBackend.available)
    func createdLeadStartsNewOwnedByItsCreatorWithEventAndAudit(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let reply = try await h.call(
                .post, "/api/v1/crm/leads",
                json: #"{"first_name":"Zoë","last_name":"Ångström","email":"Zoe@Example.com","phone":"+49 30 1234567","#
                    + #""company":"Acme","tags":["VIP"," vip ","hot"],"score":40}"#,
                auth: "Bearer test:\(CRMHarness.annID):crm.leads:write")
            #expect(reply.status == .created, "\(reply.body)")
            let lead = try reply.object()
            let id = try #require(lead["id"] as? String)
            #expect(reply.headers[.location] == "/api/v1/crm/leads/\(id)")
            #expect(reply.headers[.eTag] == "W/\"1\"")
            #expect(lead["status"] as? String == "new")
            #expect(lead["source"] as? String == "manual")
            #expect(lead["owner_id"] as? String == CRMHarness.annID)
            #expect(lead["phone"] as? String == "+49301234567")
            #expect(lead["email"] as? String == "Zoe@Example.com")
            #expect(lead["tags"] as? [String] == ["vip", "hot"])
            #expect(lead["job_title"] is NSNull)
            #expect(try await h.eventTypes() == ["crm.lead.created"])
            #expect(try await h.auditActions() == ["crm.lead.created"])
            let read = try await h.call(.get, "/api/v1/crm/leads/\(id)", auth: CRMHarness.reader)
            #expect(read.status == .ok)
            #expect(try read.object()["last_name"] as? String == "Ångström")
        }
    }

    @Test(arguments: TestBackend.available)
    func invalidFieldsAreNamedTogetherAndNothingIsWritten(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let reply = try await h.call(
                .post, "/api/v1/crm/leads",
                json: #"{"last_name":"X","email":"not-an-address","phone":"030 123","score":150,"status":"qualified","#
                    + #""owner_id":"bob","tags":"vip"}"#)
            #expect(reply.status == .unprocessableContent)
            #expect(reply.headers[.contentType] == "application/problem+json")
            #expect(try reply.errorFields() == ["email", "owner_id", "phone", "score", "status", "tags"])
            let nameless = try await h.call(.post, "/api/v1/crm/leads", json: #"{"company":"Acme"}"#)
            #expect(nameless.status == .unprocessableContent)
            #expect(try nameless.errorFields() == ["last_name"])
            let unknown = try await h.call(.post, "/api/v1/crm/leads", json: #"{"last_name":"X","nickname":"x"}"#)
            #expect(unknown.status == .badRequest)
            #expect(try unknown.errorFields() == ["nickname"])
            let malformed = try await h.call(.post, "/api/v1/crm/leads", json: #"{"last_name":"#)
            #expect(malformed.status == .badRequest)
            #expect(try await h.eventTypes().isEmpty)
            let list = try await h.call(.get, "/api/v1/crm/leads")
            #expect(try list.ids().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func duplicateEmailOrPhoneIsAConflictNamingTheLeadUnlessMerged(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let first = try await h.lead(
                #"{"last_name":"Lovelace","email":"ada@example.com","phone":"+441234567890","tags":["a"]}"#)
            let byEmail = try await h.call(
                .post, "/api/v1/crm/leads", json: #"{"last_name":"Other","email":"ADA@example.com"}"#)
            #expect(byEmail.status == .conflict)
            #expect(try byEmail.object()["existing_id"] as? String == first)
            #expect(try byEmail.object()["field"] as? String == "email")
            let byPhone = try await h.call(
                .post, "/api/v1/crm/leads", json: #"{"last_name":"Other","phone":"0044 1234 567890"}"#)
            #expect(byPhone.status == .conflict)
            #expect(try byPhone.object()["existing_id"] as? String == first)
            #expect(try byPhone.object()["field"] as? String == "phone")

            try await h.call(.patch, "/api/v1/crm/leads/\(first)", json: #"{"status":"contacted"}"#)
            let merged = try await h.call(
                .post, "/api/v1/crm/leads?on_duplicate=merge",
                json: #"{"first_name":"Ada","email":"ada@example.com","job_title":"Analyst","tags":["b","a"],"#
                    + #""status":"new"}"#)
            #expect(merged.status == .ok, "\(merged.body)")
            let lead = try merged.object()
            #expect(lead["id"] as? String == first)
            #expect(lead["first_name"] as? String == "Ada")
            #expect(lead["last_name"] as? String == "Lovelace")
            #expect(lead["job_title"] as? String == "Analyst")
            #expect(lead["tags"] as? [String] == ["a", "b"])
            #expect(lead["status"] as? String == "contacted", "a merge does not move the status")
            #expect(lead["version"] as? Int == 3)
            let all = try await h.call(.get, "/api/v1/crm/leads?include_total=true")
            #expect(try all.object()["total"] as? Int == 1)
            #expect(try await h.eventTypes() == ["crm.lead.created", "crm.lead.updated", "crm.lead.updated"])
            #expect(try await h.auditActions() == ["crm.lead.created", "crm.lead.updated", "crm.lead.merged"])

            // Changing another lead's email to a taken one is the same conflict.
            let second = try await h.lead(#"{"last_name":"Hopper","email":"grace@example.com"}"#)
            let taken = try await h.call(
                .patch, "/api/v1/crm/leads/\(second)", json: #"{"email":"ada@example.com"}"#)
            #expect(taken.status == .conflict)
            #expect(try taken.object()["existing_id"] as? String == first)
        }
    }

    @Test(arguments: TestBackend.available)
    func statusMovesFollowTheLifecycleAndQualificationIsAnEvent(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let id = try await h.lead(#"{"last_name":"Turing"}"#)
            let skip = try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"status":"qualified"}"#)
            #expect(skip.status == .unprocessableContent)
            #expect(try skip.errorFields() == ["status"])
            let contacted = try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"status":"contacted"}"#)
            #expect(contacted.status == .ok)
            let qualified = try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"status":"qualified"}"#)
            #expect(qualified.status == .ok)
            #expect(try qualified.object()["status"] as? String == "qualified")
            let back = try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"status":"new"}"#)
            #expect(back.status == .unprocessableContent)
            #expect(
                try await h.eventTypes() == [
                    "crm.lead.created", "crm.lead.updated", "crm.lead.updated", "crm.lead.qualified",
                ])
        }
    }

    @Test(arguments: TestBackend.available)
    func patchMergesFieldsAndIfMatchGuardsAgainstLostUpdates(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let id = try await h.lead(#"{"first_name":"Grace","last_name":"Hopper","company":"Navy","notes":"met"}"#)
            let stale = try await h.call(
                .patch, "/api/v1/crm/leads/\(id)", json: #"{"company":"Univac"}"#, headers: [.ifMatch: "W/\"7\""])
            #expect(stale.status == .preconditionFailed)
            let patched = try await h.call(
                .patch, "/api/v1/crm/leads/\(id)", json: #"{"company":"Univac","notes":null}"#,
                headers: [.ifMatch: "W/\"1\""])
            #expect(patched.status == .ok, "\(patched.body)")
            #expect(patched.headers[.eTag] == "W/\"2\"")
            let lead = try patched.object()
            #expect(lead["company"] as? String == "Univac")
            #expect(lead["notes"] is NSNull)
            #expect(lead["first_name"] as? String == "Grace", "absent fields keep their value")
            // The same body again changes nothing: no new version, event or audit record.
            let again = try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"company":"Univac"}"#)
            #expect(try again.object()["version"] as? Int == 2)
            #expect(try await h.eventTypes() == ["crm.lead.created", "crm.lead.updated"])
            let deleteStale = try await h.call(.delete, "/api/v1/crm/leads/\(id)", headers: [.ifMatch: "W/\"1\""])
            #expect(deleteStale.status == .preconditionFailed)
            let deleted = try await h.call(.delete, "/api/v1/crm/leads/\(id)", headers: [.ifMatch: "W/\"2\""])
            #expect(deleted.status == .noContent)
            #expect(try await h.call(.get, "/api/v1/crm/leads/\(id)").status == .notFound)
            #expect(try await h.eventTypes().last == "crm.lead.deleted")
        }
    }

    @Test(arguments: TestBackend.available)
    func permissionsAreCheckedPerAction(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            #expect(try await h.call(.get, "/api/v1/crm/leads", auth: nil).status == .unauthorized)
            #expect(
                try await h.call(.post, "/api/v1/crm/leads", json: #"{"last_name":"X"}"#, auth: CRMHarness.reader)
                    .status == .forbidden)
            let id = try await h.lead(#"{"last_name":"X"}"#, auth: CRMHarness.writer)
            #expect(try await h.call(.delete, "/api/v1/crm/leads/\(id)", auth: CRMHarness.writer).status == .forbidden)
            #expect(
                try await h.call(
                    .post, "/api/v1/crm/custom-fields",
                    json: #"{"entity":"lead","key":"k","label":"K","type":"text"}"#, auth: CRMHarness.writer
                ).status == .forbidden)
        }
    }

    @Test(arguments: TestBackend.available)
    func anotherTenantsLeadIsNotFoundAndUnchanged(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let id = try await h.lead(#"{"last_name":"Private","email":"p@example.com"}"#)
            let other = CRMHarness.otherAdmin
            #expect(try await h.call(.get, "/api/v1/crm/leads/\(id)", auth: other).status == .notFound)
            #expect(
                try await h.call(.patch, "/api/v1/crm/leads/\(id)", json: #"{"last_name":"Mine"}"#, auth: other)
                    .status == .notFound)
            #expect(try await h.call(.delete, "/api/v1/crm/leads/\(id)", auth: other).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/leads", auth: other).ids().isEmpty)
            // The same address is free in another tenant.
            let theirs = try await h.call(
                .post, "/api/v1/crm/leads", json: #"{"last_name":"Theirs","email":"p@example.com"}"#, auth: other)
            #expect(theirs.status == .created)
            let mine = try await h.call(.get, "/api/v1/crm/leads/\(id)")
            #expect(try mine.object()["last_name"] as? String == "Private")
            #expect(try mine.object()["version"] as? Int == 1)
        }
    }
}
