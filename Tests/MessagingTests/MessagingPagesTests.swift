import Foundation
import HTTPTypes
import Kernel
import Platform
import TestSupport
import Testing

@testable import Messaging

@Suite struct MessagingPagesTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func pagesNeedASignedInUser() async throws {
        try await withMessaging(.sqlite) { h in
            let page = try await h.call(.get, "/messaging/campaigns", auth: nil)
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/auth/refresh?return_to=%2Fmessaging%2Fcampaigns")
            let forbidden = try await h.call(
                .get, "/messaging/templates", auth: "Bearer test:x:messaging.contacts:read")
            #expect(forbidden.status == .forbidden)
        }
    }

    @Test func templateEditorShowsPreviewAndFieldErrors() async throws {
        try await withMessaging(.sqlite) { h in
            let empty = try await h.call(.get, "/messaging/templates")
            #expect(empty.body.contains("No templates yet"))
            let created = try await h.call(
                .post, "/messaging/templates",
                json: nil, headers: Self.form)
            #expect(created.status == .unprocessableContent)
            let made = try await h.client.execute(
                uri: "/messaging/templates", method: .post,
                headers: [.authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded"],
                body: .init(
                    string: FormBody.encode([
                        ("name", "Welcome"), ("key", "welcome"), ("locale", "en"), ("subject", "Hi {{name}}"),
                        ("text", "Hello {{name}}"),
                    ]))
            ) { $0 }
            #expect(made.status == .seeOther)
            let location = try #require(made.headers[.location])
            let editor = try await h.call(.get, location)
            #expect(editor.status == .ok)
            #expect(editor.body.contains("data-preview-subject>Hi Preview</strong>"))
            #expect(editor.body.contains("/assets/messaging."))
            // A syntax error keeps the edit and names the field.
            let broken = try await h.client.execute(
                uri: location, method: .post,
                headers: [.authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded"],
                body: .init(
                    string: FormBody.encode([
                        ("version", "1"), ("name", "Welcome"), ("key", "welcome"), ("locale", "en"),
                        ("subject", "Hi {{#name}}"), ("text", "Hello"),
                    ]))
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(broken.0 == .unprocessableContent)
            #expect(broken.1.contains("id=\"subject-error\""))
            #expect(broken.1.contains("value=\"Hi {{#name}}\""))
        }
    }

    @Test func suppressionListAddAndRemove() async throws {
        try await withMessaging(.sqlite) { h in
            func post(_ path: String, _ fields: [(String, String)]) async throws -> (HTTPResponse.Status, String) {
                try await h.client.execute(
                    uri: path, method: .post,
                    headers: [
                        .authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded",
                    ],
                    body: .init(string: FormBody.encode(fields))
                ) { ($0.status, String(buffer: $0.body)) }
            }
            #expect(
                try await post("/messaging/suppressions", [("email", "not an address"), ("reason", "manual")]).0
                    == .unprocessableContent)
            #expect(
                try await post("/messaging/suppressions", [("email", "Zoe@Example.com"), ("reason", "complaint")]).0
                    == .seeOther)
            let page = try await h.call(.get, "/messaging/suppressions")
            #expect(page.body.contains("zoe@example.com"))
            #expect(page.body.contains("Complaint"))
            #expect(try await post("/messaging/suppressions/remove", [("email", "zoe@example.com")]).0 == .seeOther)
            #expect(try await h.call(.get, "/messaging/suppressions").body.contains("No suppressed addresses."))
        }
    }

    @Test func campaignPageCreatesSchedulesAndSendsATest() async throws {
        try await withMessaging(.sqlite) { h in
            let (list, _) = try await CampaignTests.prepare(h, count: 2)
            let made = try await h.client.execute(
                uri: "/messaging/campaigns", method: .post,
                headers: [.authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded"],
                body: .init(
                    string: FormBody.encode([
                        ("name", "December"), ("list_id", list), ("template_key", "newsletter"),
                        ("rate_per_minute", "600"),
                    ]))
            ) { $0 }
            #expect(made.status == .seeOther)
            let location = try #require(made.headers[.location])
            let test = try await h.client.execute(
                uri: location + "/test", method: .post,
                headers: [.authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded"],
                body: .init(string: FormBody.encode([("to", "tester@example.com")]))
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(test.0 == .ok)
            #expect(test.1.contains("The test message was sent."))
            #expect(h.smtp.messageCount == 1)
            #expect(try await h.smtp.parsedMessage(1).to.first?.address == "tester@example.com")
            // Scheduled an hour ahead in a browser two hours east of UTC (offset -120).
            let local = Date().addingTimeInterval(3_600 + 7_200)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
            let scheduled = try await h.client.execute(
                uri: location + "/schedule", method: .post,
                headers: [.authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded"],
                body: .init(string: FormBody.encode([("send_at", formatter.string(from: local)), ("offset", "-120")]))
            ) { $0 }
            #expect(scheduled.status == .seeOther)
            let api = try await h.call(.get, "/api/v1/messaging/campaigns/\(location.split(separator: "/").last!)")
            let text = try #require(try h.object(api.body)["scheduled_at"] as? String)
            let at = try #require(RFC3339.date(from: text))
            #expect(abs(at.timeIntervalSinceNow - 3_600) < 120)
            let page = try await h.call(.get, location)
            #expect(page.body.contains("data-status>Scheduled</strong>"))
        }
    }

    @Test func webhookPagesAddRotateDisableAndShowTheLog() async throws {
        try await withMessaging(.sqlite, allowedNetworks: ["127.0.0.0/8"]) { h in
            func post(_ path: String, _ fields: [(String, String)]) async throws -> (HTTPResponse.Status, String) {
                try await h.client.execute(
                    uri: path, method: .post,
                    headers: [
                        .authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded",
                    ],
                    body: .init(string: FormBody.encode(fields))
                ) { ($0.status, String(buffer: $0.body)) }
            }
            #expect(try await h.call(.get, "/messaging/webhooks").body.contains("No webhook endpoints yet."))
            let refused = try await post("/messaging/webhooks", [("url", "http://10.0.0.1/x"), ("event_types", "*")])
            #expect(refused.0 == .unprocessableContent)
            #expect(refused.1.contains("private address"))
            let added = try await post(
                "/messaging/webhooks", [("url", "http://127.0.0.1:9/hook"), ("event_types", "crm.*, erp.order.paid")])
            #expect(added.0 == .ok)
            #expect(added.1.contains("id=\"webhook-secret\">whsec_"))
            #expect(added.1.contains("Nothing delivered yet."))
            let list = try await h.call(.get, "/api/v1/messaging/webhooks")
            let endpoint = try #require((try h.object(list.body)["data"] as? [[String: Any]])?.first)
            let id = try #require(endpoint["id"] as? String)
            #expect(endpoint["event_types"] as? [String] == ["crm.*", "erp.order.paid"])
            let rotated = try await post("/messaging/webhooks/\(id)/rotate", [])
            #expect(rotated.1.contains("the old one keeps working for 24 hours"))
            #expect(!(try await h.call(.get, "/messaging/webhooks/\(id)").body.contains("whsec_")))
            let version =
                try h.object(try await h.call(.get, "/api/v1/messaging/webhooks/\(id)").body)["version"] as? Int
            let disabled = try await post("/messaging/webhooks/\(id)/disable", [("version", String(version ?? 0))])
            #expect(disabled.1.contains("data-status>Disabled</strong>"), "\(disabled.1)")
        }
    }

    @Test func listPagesCreateAddAndRemoveMembers() async throws {
        try await withMessaging(.sqlite) { h in
            func post(_ path: String, _ fields: [(String, String)]) async throws -> (
                HTTPResponse.Status, String, String?
            ) {
                try await h.client.execute(
                    uri: path, method: .post,
                    headers: [
                        .authorization: MessagingHarness.admin, .contentType: "application/x-www-form-urlencoded",
                    ],
                    body: .init(string: FormBody.encode(fields))
                ) { ($0.status, String(buffer: $0.body), $0.headers[.location]) }
            }
            #expect(try await h.call(.get, "/messaging/lists").body.contains("No lists yet."))
            let created = try await post("/messaging/lists", [("name", "Friends"), ("description", "")])
            #expect(created.0 == .seeOther)
            let path = try #require(created.2)
            let bad = try await post("\(path)/members", [("addresses", "ann@example.com\nnot an address")])
            #expect(bad.0 == .unprocessableContent)
            #expect(bad.1.contains("line 2: not an address"))
            let added = try await post(
                "\(path)/members", [("addresses", "Ann Ö <ann@example.com>\nbob@example.com\n\nbob@example.com")])
            #expect(added.0 == .ok)
            #expect(added.1.contains("data-member-count>2</strong>"))
            #expect(added.1.contains("Ann Ö"))
            let listID = try #require(path.split(separator: "/").last.map(String.init))
            let members = try await h.call(.get, "/api/v1/messaging/lists/\(listID)/members")
            let bob = try #require(
                (try h.object(members.body)["data"] as? [[String: Any]])?.first {
                    $0["email"] as? String == "bob@example.com"
                }?["id"]
                    as? String)
            #expect(try await post("\(path)/members/\(bob)/remove", []).0 == .seeOther)
            #expect(try await h.call(.get, path).body.contains("data-member-count>1</strong>"))
            #expect(try await h.call(.get, "/messaging/lists").body.contains(">Friends</a>"))
        }
    }
}
