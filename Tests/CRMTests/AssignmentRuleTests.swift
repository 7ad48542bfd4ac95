import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct AssignmentRuleTests {
    static let team = [
        "0194a3b2-0000-7000-8000-0000000000a1", "0194a3b2-0000-7000-8000-0000000000a2",
        "0194a3b2-0000-7000-8000-0000000000a3",
    ]
    static let vipOwner = "0194a3b2-0000-7000-8000-0000000000b1"

    static func rule(_ h: CRMHarness, _ json: String) async throws -> String {
        let reply = try await h.call(.post, "/api/v1/crm/assignment-rules", json: json)
        #expect(reply.status == .created, "\(reply.body)")
        return try #require(try reply.object()["id"] as? String)
    }

    static func owner(_ h: CRMHarness, _ json: String) async throws -> String? {
        let id = try await h.lead(json)
        return try await h.call(.get, "/api/v1/crm/leads/\(id)").object()["owner_id"] as? String
    }

    @Test(arguments: TestBackend.available)
    func rulesAssignByFieldOrRoundRobinInOrderAndMailTheOwner(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let users = Self.team.map { "\"\($0)\"" }.joined(separator: ",")
            _ = try await Self.rule(
                h, #"{"name":"VIPs","conditions":{"tag":"VIP"},"method":"user","users":["\#(Self.vipOwner)"]}"#)
            _ = try await Self.rule(
                h, #"{"name":"Website","conditions":{"source":"website"},"method":"round_robin","users":[\#(users)]}"#)
            var owners: [String?] = []
            for index in 0..<4 {
                owners.append(
                    try await Self.owner(h, #"{"first_name":"W\#(index)","source":"website"}"#))
            }
            #expect(owners == [Self.team[0], Self.team[1], Self.team[2], Self.team[0]])
            // The first matching rule wins; an owner sent is kept; no match keeps the creator.
            #expect(try await Self.owner(h, #"{"first_name":"V","source":"website","tags":["vip"]}"#) == Self.vipOwner)
            #expect(
                try await Self.owner(h, #"{"first_name":"O","source":"website","owner_id":"\#(Self.vipOwner)"}"#)
                    == Self.vipOwner)
            #expect(try await Self.owner(h, #"{"first_name":"M","source":"manual"}"#) == "ann")
            let notices = try await h.events(UserNotice.eventType)
            #expect(notices.map { $0["user_id"] as? String } == [Self.team[0], Self.team[1], Self.team[2], Self.team[0], Self.vipOwner])
            #expect((notices.first?["subject"] as? String) == "New lead for you: W0")

            let listed = try await h.call(.get, "/api/v1/crm/assignment-rules", auth: CRMHarness.reader)
            #expect((try listed.object()["data"] as? [[String: Any]])?.map { $0["name"] as? String } == ["VIPs", "Website"])
        }
    }

    @Test(arguments: TestBackend.available)
    func aWebsiteLeadGoesToItsAssignedOwnerInsteadOfTheAdmins(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            try await LeadCaptureTests.publish(h)
            _ = try await Self.rule(
                h, #"{"name":"Web","conditions":{"source":"website"},"method":"user","users":["\#(Self.vipOwner)"]}"#)
            let reply = try await h.call(.post, "/api/v1/crm/public/acme/leads", json: LeadCaptureTests.form, auth: nil)
            #expect(reply.status == .accepted, "\(reply.body)")
            let lead = try #require((try await h.call(.get, "/api/v1/crm/leads").object()["data"] as? [[String: Any]])?.first)
            #expect(lead["owner_id"] as? String == Self.vipOwner)
            #expect(try await h.events(AdminNotice.eventType).isEmpty)
            let notices = try await h.events(UserNotice.eventType)
            #expect(notices.map { $0["user_id"] as? String } == [Self.vipOwner])
            #expect((notices.first?["text"] as? String)?.contains("Please call me about COBOL.") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func concurrentLeadsShareTheRoundRobinEvenly(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let users = Self.team.map { "\"\($0)\"" }.joined(separator: ",")
            _ = try await Self.rule(h, #"{"name":"All","method":"round_robin","users":[\#(users)]}"#)
            let owners = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<9 {
                    group.addTask { try await Self.owner(h, #"{"first_name":"C\#(index)"}"#) }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            for user in Self.team { #expect(owners.filter { $0 == user }.count == 3) }
        }
    }

    @Test(arguments: TestBackend.available)
    func rulesAreCheckedAndOnlyAdminsChangeThem(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let bad = try await h.call(
                .post, "/api/v1/crm/assignment-rules",
                json: #"{"name":"","method":"user","users":["a","b"],"conditions":{"colour":"red","status":"maybe","cf.region":"EU"}}"#)
            #expect(bad.status == .unprocessableContent, "\(bad.body)")
            #expect(try bad.errorFields() == ["conditions.colour", "conditions.status", "name", "users"])
            let unknownField = try await h.call(
                .post, "/api/v1/crm/assignment-rules",
                json: #"{"name":"R","method":"user","users":["\#(Self.vipOwner)"],"conditions":{"cf.region":"EU"}}"#)
            #expect(unknownField.status == .unprocessableContent)
            #expect(try unknownField.errorFields() == ["conditions.cf.region"])
            let json = #"{"name":"R","method":"user","users":["\#(Self.vipOwner)"]}"#
            #expect(
                try await h.call(.post, "/api/v1/crm/assignment-rules", json: json, auth: CRMHarness.writer).status
                    == .forbidden)
            let id = try await Self.rule(h, json)
            let paused = try await h.call(.patch, "/api/v1/crm/assignment-rules/\(id)", json: #"{"active":false}"#)
            #expect(try paused.object()["active"] as? Bool == false)
            #expect(try await Self.owner(h, #"{"first_name":"P"}"#) == "ann")
            for method: HTTPRequest.Method in [.get, .delete] {
                #expect(
                    try await h.call(method, "/api/v1/crm/assignment-rules/\(id)", auth: CRMHarness.otherAdmin).status
                        == .notFound)
            }
            #expect(try await h.call(.delete, "/api/v1/crm/assignment-rules/\(id)").status == .noContent)
            #expect(
                try await h.auditActions().filter { $0.hasPrefix("crm.assignment_rule.") }
                    == ["crm.assignment_rule.created", "crm.assignment_rule.updated", "crm.assignment_rule.deleted"])
        }
    }
}
