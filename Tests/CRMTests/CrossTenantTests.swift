import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

/// Issue 6's cross-tenant test: every CRM route with an id in its path (as the OpenAPI document lists them), called
/// by another tenant's admin with this tenant's ids, answers 404 and changes nothing.
@Suite struct CrossTenantTests {
    @Test(arguments: TestBackend.available)
    func everyRouteWithAnotherTenantsIDAnswers404AndChangesNothing(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            func created(_ path: String, _ json: String) async throws -> String {
                let reply = try await h.call(.post, "/api/v1/crm/\(path)", json: json)
                #expect(reply.status == .created, "\(path): \(reply.body)")
                return try #require(try reply.object()["id"] as? String)
            }
            var ids: [String: String] = [:]
            ids["leads"] = try await h.lead(#"{"first_name":"Ada","email":"ada@example.com"}"#)
            ids["companies"] = try await created("companies", #"{"name":"Initech"}"#)
            ids["contacts"] = try await created(
                "contacts", #"{"first_name":"Bob","company_id":"\#(ids["companies"]!)"}"#)
            ids["deals"] = try await created("deals", #"{"name":"D","value":{"amount_minor":1,"currency":"EUR"}}"#)
            ids["pipelines"] = try await h.defaultPipeline().id
            ids["custom-fields"] = try await created(
                "custom-fields", #"{"entity":"lead","key":"region","label":"Region","type":"text"}"#)
            ids["activities"] = try await created(
                "activities", #"{"type":"note","body":"x","targets":[{"type":"lead","id":"\#(ids["leads"]!)"}]}"#)
            ids["views"] = try await created("views", #"{"entity":"lead","name":"Mine","query":"status=new"}"#)
            ids["assignment-rules"] = try await created(
                "assignment-rules", #"{"name":"R","method":"user","users":["0194a3b2-0000-7000-8000-0000000000a1"]}"#)
            ids["imports"] = try #require(try await h.upload("Email\nx@example.com")["id"] as? String)
            let file = try await h.call(
                .post, "/api/v1/crm/leads/\(ids["leads"]!)/attachments?name=a.txt", json: "a",
                headers: [.contentType: "text/plain"])
            ids["attachments"] = try #require(try file.object()["id"] as? String, "\(file.body)")

            func snapshot() async throws -> [String] {
                var bodies: [String] = []
                for (plural, id) in ids.sorted(by: { $0.key < $1.key }) {
                    bodies.append(try await h.call(.get, "/api/v1/crm/\(plural)/\(id)").body)
                }
                return bodies + [String(try await h.auditActions().count), String(try await h.eventTypes().count)]
            }
            let before = try await snapshot()

            var checked = 0
            for operation in CRMOpenAPI.operations where operation.path.contains("{id}") {
                let relative = operation.path.dropFirst(CRMPaths.api.count + 1)
                let plural = String(relative.prefix { $0 != "/" })
                let id = try #require(ids[plural], "no id for \(operation.path)")
                let path = operation.path.replacingOccurrences(of: "{id}", with: id)
                let body: String? =
                    switch operation.method {
                    case .post where path.hasSuffix("/convert"): #"{"deal":null}"#
                    case .post where path.hasSuffix("/start"): #"{"mapping":{"Email":"email"}}"#
                    case .post, .patch: "{}"
                    default: nil
                    }
                let reply = try await h.call(operation.method, path, json: body, auth: CRMHarness.otherAdmin)
                #expect(
                    reply.status == .notFound, "\(operation.method) \(operation.path): \(reply.status) \(reply.body)")
                checked += 1
            }
            #expect(checked >= 30)
            #expect(try await snapshot() == before)
        }
    }
}
