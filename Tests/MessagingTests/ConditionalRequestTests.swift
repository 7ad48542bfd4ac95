import Foundation
import HTTPTypes
import Kernel
import Platform
import TestSupport
import Testing

@testable import Messaging

/// API.md's optimistic concurrency, as the CRM has it: templates, campaigns and webhook endpoints answer with an
/// `ETag`; `If-Match` on `PUT` and `DELETE` applies the change only to the version read (412 otherwise); the body's
/// `version` is the same check by another name; without either the change is unconditional.
@Suite struct ConditionalRequestTests {
    /// Runs the checks on one resource: `path` names it, `put` is a valid full body without `version`.
    static func check(_ h: MessagingHarness, path: String, put: String) async throws {
        let read = try await h.call(.get, path)
        #expect(read.status == .ok, "\(read.body)")
        #expect(read.headers[.eTag] == "W/\"1\"", "\(path)")

        let stale = try await h.call(.put, path, json: put, headers: [.ifMatch: "W/\"7\""])
        #expect(stale.status == .preconditionFailed, "\(path): \(stale.body)")
        #expect(stale.headers[.contentType]?.hasPrefix("application/problem+json") == true)
        let current = try await h.call(.put, path, json: put, headers: [.ifMatch: "W/\"1\""])
        #expect(current.status == .ok, "\(path): \(current.body)")
        #expect(current.headers[.eTag] == "W/\"2\"")
        // The strong form of the same tag, and `*`, match as well.
        #expect(try await h.call(.put, path, json: put, headers: [.ifMatch: "\"2\""]).status == .ok)
        #expect(try await h.call(.put, path, json: put, headers: [.ifMatch: "*"]).status == .ok)

        let withVersion = String(put.dropLast()) + #", "version": 1}"#
        #expect(try await h.call(.put, path, json: withVersion).status == .preconditionFailed)
        let unconditional = try await h.call(.put, path, json: put)
        #expect(unconditional.status == .ok, "\(unconditional.body)")
        #expect(unconditional.headers[.eTag] == "W/\"5\"")

        #expect(try await h.call(.delete, path, headers: [.ifMatch: "W/\"4\""]).status == .preconditionFailed)
        #expect(try await h.call(.get, path).status == .ok)
        #expect(try await h.call(.delete, path, headers: [.ifMatch: "W/\"5\""]).status == .noContent)
        #expect(try await h.call(.get, path).status == .notFound)
    }

    @Test(arguments: TestBackend.available)
    func templatesCampaignsAndWebhooksFollowIfMatch(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            let template = try await h.call(
                .post, "/api/v1/messaging/templates",
                json: #"{"key": "news", "name": "News", "subject": "Hello", "text": "Hi {{name}}"}"#)
            let templateID = try #require(try h.object(template.body)["id"] as? String)
            try await Self.check(
                h, path: "/api/v1/messaging/templates/\(templateID)",
                put: #"{"key": "news", "name": "News", "subject": "Hello again", "text": "Hi {{name}}"}"#)

            _ = try await h.call(
                .post, "/api/v1/messaging/templates",
                json: #"{"key": "letter", "name": "Letter", "subject": "Hello", "text": "Hi"}"#)
            let list = try await h.call(.post, "/api/v1/messaging/lists", json: #"{"name": "Readers"}"#)
            let listID = try #require(try h.object(list.body)["id"] as? String)
            let campaign = try await h.call(
                .post, "/api/v1/messaging/campaigns",
                json: #"{"name": "Spring", "list_id": "\#(listID)", "template_key": "letter"}"#)
            #expect(campaign.status == .created, "\(campaign.body)")
            let campaignID = try #require(try h.object(campaign.body)["id"] as? String)
            try await Self.check(
                h, path: "/api/v1/messaging/campaigns/\(campaignID)",
                put: #"{"name": "Spring sale", "list_id": "\#(listID)", "template_key": "letter"}"#)

            let webhook = try await h.call(
                .post, "/api/v1/messaging/webhooks",
                json: #"{"url": "https://198.51.100.7/hook", "event_types": ["crm.lead.created"]}"#)
            #expect(webhook.status == .created, "\(webhook.body)")
            let webhookID = try #require(try h.object(webhook.body)["id"] as? String)
            try await Self.check(
                h, path: "/api/v1/messaging/webhooks/\(webhookID)",
                put: #"{"url": "https://198.51.100.7/hook", "event_types": ["crm.deal.won"]}"#)
        }
    }
}
