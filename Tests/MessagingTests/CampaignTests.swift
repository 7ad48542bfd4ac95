import Foundation
import HTTPTypes
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import Messaging

@Suite struct CampaignTests {
    static let html = """
        <html><body><h1>Grüße, {{name}}!</h1><p>{{brand.name}} news for {{email}}.</p>
        <p><a href="https://shop.example/sale?from=mail&amp;id={{contact.email}}">Shop the sale</a></p>
        <p><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>
        """

    /// Creates the template, a list of `count` contacts and a campaign on it; returns (list id, campaign id).
    static func prepare(_ h: MessagingHarness, count: Int, rate: Int = 100_000, batch: Int = 250) async throws
        -> (list: String, campaign: String)
    {
        let template = try await h.call(
            .post, "/api/v1/messaging/templates",
            json: """
                {"key": "newsletter", "name": "Newsletter", "subject": "Grüße aus Köln, {{name}} — Ausgabe 1",
                 "text": "Hallo {{name}},\\nneu im Shop: https://shop.example/sale\\nAbmelden: {{unsubscribe_url}}",
                 "html": \(try String(decoding: JSONEncoder().encode(html), as: UTF8.self))}
                """)
        #expect(template.status == .created, "\(template.body)")
        let settings = try await h.call(
            .put, "/api/v1/messaging/settings",
            json: #"{"from_name": "Bäckerei Müller", "from_address": "news@example.com", "brand": {"name": "Müller"}}"#)
        #expect(settings.status == .ok, "\(settings.body)")
        let list = try await h.call(.post, "/api/v1/messaging/lists", json: #"{"name": "Customers"}"#)
        #expect(list.status == .created, "\(list.body)")
        let listID = try #require(try h.object(list.body)["id"] as? String)
        let contacts = (0..<count).map { index in
            #"{"email": "customer\#(index)@example.com", "name": "Kundé \#(index)", "attributes": {"tier": "\#(index % 3 == 0 ? "gold" : "basic")"}}"#
        }
        let members = try await h.call(
            .post, "/api/v1/messaging/lists/\(listID)/members",
            json: #"{"contacts": [\#(contacts.joined(separator: ","))]}"#)
        #expect(members.status == .ok, "\(members.body)")
        #expect(try h.object(members.body)["added"] as? Int == count)
        let campaign = try await h.call(
            .post, "/api/v1/messaging/campaigns",
            json:
                #"{"name": "November", "list_id": "\#(listID)", "template_key": "newsletter", "rate_per_minute": \#(rate), "batch_size": \#(batch)}"#
        )
        #expect(campaign.status == .created, "\(campaign.body)")
        return (listID, try #require(try h.object(campaign.body)["id"] as? String))
    }

    static func status(_ h: MessagingHarness, _ campaign: String) async throws -> String {
        let response = try await h.call(.get, "/api/v1/messaging/campaigns/\(campaign)")
        return try h.object(response.body)["status"] as? String ?? ""
    }

    static func results(_ h: MessagingHarness, _ campaign: String) async throws -> [String: Int] {
        let response = try await h.call(.get, "/api/v1/messaging/campaigns/\(campaign)/results")
        return try h.object(response.body).compactMapValues { $0 as? Int }
    }

    /// The path and query of a link in a message (the harness's client speaks to the app directly).
    static func path(_ url: String, base: String) throws -> String {
        try #require(url.hasPrefix(base) ? String(url.dropFirst(base.count)) : nil, "\(url) is not under \(base)")
    }

    /// The number a results page shows for `name` (`<div class="stat" data-count="name">...<dd>N</dd>`).
    static func count(_ name: String, in html: String) -> Int? {
        guard let start = html.range(of: "data-count=\"\(name)\"") else { return nil }
        let rest = html[start.upperBound...]
        guard let open = rest.range(of: "<dd>"), let close = rest.range(of: "</dd>") else { return nil }
        return Int(rest[open.upperBound..<close.lowerBound])
    }

    @Test(arguments: TestBackend.available)
    func thousandRecipientsTenSuppressedOverRealSMTP(_ backend: TestBackend) async throws {
        try await withMessaging(backend) { h in
            let (_, campaign) = try await Self.prepare(h, count: 1_000)
            let suppressed = (0..<10).map { "customer\($0 * 97)@example.com" }
            for (index, email) in suppressed.enumerated() {
                let reason = index < 5 ? "unsubscribed" : "complaint"
                let added = try await h.call(
                    .post, "/api/v1/messaging/suppressions",
                    json: #"{"email": "\#(email.uppercased())", "reason": "\#(reason)"}"#)
                #expect(added.status == .created, "\(added.body)")
            }
            let sent = try await h.call(.post, "/api/v1/messaging/campaigns/\(campaign)/send", json: "{}")
            #expect(sent.status == .accepted, "\(sent.body)")
            try await h.runJobs { try await Self.status(h, campaign) == "sent" }

            // What the SMTP server received: 990 messages, one per recipient, none to a suppressed address.
            #expect(h.smtp.messageCount == 990)
            var recipients: [String: Int] = [:]
            for number in 1...h.smtp.messageCount {
                let envelope = try h.smtp.envelope(number)
                #expect(envelope.rcpt_tos.count == 1)
                recipients[envelope.rcpt_tos[0]] = number
            }
            let expected = Set((0..<1_000).map { "customer\($0)@example.com" }).subtracting(suppressed)
            #expect(Set(recipients.keys) == expected)

            // One message as an independent MIME parser reads it.
            let first = try #require(recipients["customer1@example.com"])
            let parsed = try await h.smtp.parsedMessage(first)
            #expect(parsed.defects.isEmpty)
            #expect(parsed.subject == "Grüße aus Köln, Kundé 1 — Ausgabe 1")
            #expect(parsed.from == [.init(name: "Bäckerei Müller", address: "news@example.com")])
            #expect(parsed.to == [.init(name: "Kundé 1", address: "customer1@example.com")])
            let headers = Dictionary(
                parsed.headers.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { a, _ in a })
            let unsubscribeHeader = try #require(headers["list-unsubscribe"])
            #expect(headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click")
            #expect(unsubscribeHeader.hasPrefix("<\(h.baseURL)/messaging/u/") && unsubscribeHeader.hasSuffix(">"))
            #expect(parsed.content_type == "multipart/alternative")
            let text = try #require(parsed.parts.first { $0.content_type == "text/plain" }?.content)
            let html = try #require(parsed.parts.first { $0.content_type == "text/html" }?.content)
            #expect(text.contains("Hallo Kundé 1,"))
            #expect(text.contains("https://shop.example/sale"))
            #expect(html.contains("<h1>Grüße, Kundé 1!</h1>"))
            #expect(html.contains("Müller news for customer1@example.com"))
            #expect(!html.contains("https://shop.example"))

            // Opens on messages 1–3, clicks on 3 and 4 (a click counts as an open), unsubscribe from 5.
            func links(_ recipient: Int) async throws -> (open: String, click: String, unsubscribe: String) {
                let number = try #require(recipients["customer\(recipient)@example.com"])
                let message = try await h.smtp.parsedMessage(number)
                let html = try #require(message.parts.first { $0.content_type == "text/html" }?.content)
                func find(_ marker: String) throws -> String {
                    let start = try #require(html.range(of: "\(h.baseURL)\(marker)"))
                    return String(html[start.lowerBound...].prefix { $0 != "\"" })
                }
                return (try find("/messaging/t/o/"), try find("/messaging/t/c/"), try find("/messaging/u/"))
            }
            for recipient in 1...3 {
                let pixel = try await h.call(
                    .get, try Self.path(try await links(recipient).open, base: h.baseURL), auth: nil)
                #expect(pixel.status == .ok)
                #expect(pixel.headers[.contentType] == "image/gif")
            }
            for recipient in 3...4 {
                let click = try await h.call(
                    .get, try Self.path(try await links(recipient).click, base: h.baseURL), auth: nil)
                #expect(click.status == .found)
                #expect(
                    click.headers[.location]
                        == "https://shop.example/sale?from=mail&id=customer\(recipient)@example.com")
            }
            let unsubscribe = try Self.path(try await links(5).unsubscribe, base: h.baseURL)
            let confirm = try await h.call(.get, unsubscribe, auth: nil)
            #expect(confirm.status == .ok)
            #expect(confirm.body.contains("method=\"post\""))
            // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the header's URL.
            let oneClick = try await h.call(
                .post, try Self.path(String(unsubscribeHeader.dropFirst().dropLast()), base: h.baseURL), auth: nil,
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(oneClick.status == .ok)
            let linkUnsubscribe = try await h.call(.post, unsubscribe, auth: nil)
            #expect(linkUnsubscribe.status == .ok)
            // A forged or altered link records nothing.
            var forged = Array(unsubscribe)
            let middle = forged.count - 12
            forged[middle] = forged[middle] == "A" ? "B" : "A"
            #expect(try await h.call(.post, String(forged), auth: nil).status == .notFound)

            let results = try await Self.results(h, campaign)
            #expect(results["recipients"] == 1_000)
            #expect(results["sent"] == 990)
            #expect(results["suppressed"] == 10)
            #expect(results["queued"] == 0)
            #expect(results["failed"] == 0)
            #expect(results["opened"] == 4)
            #expect(results["clicked"] == 2)
            #expect(results["unsubscribed"] == 2)
            // What other modules, webhooks and live views learn: the status changes, the progress after each
            // of the 4 batches, and each new unsubscribe.
            let events = try await h.database.write(tenant: TestAuthenticator.tenant) { tx in
                try await tx.sql.raw("SELECT type FROM event_outbox ORDER BY seq").all().map {
                    try $0.decode(column: "type", as: String.self)
                }
            }
            #expect(events.filter { $0 == MessagingEvents.campaignStatusChanged }.count == 2)
            #expect(events.filter { $0 == MessagingEvents.campaignProgressed }.count == 4)
            #expect(events.filter { $0 == MessagingEvents.contactUnsubscribed }.count == 2)

            // The results page shows the same counts.
            let page = try await h.call(.get, "/messaging/campaigns/\(campaign)")
            #expect(page.status == .ok)
            for (name, value) in [
                ("recipients", 1_000), ("delivered", 990), ("opened", 4), ("clicked", 2), ("bounced", 0),
                ("unsubscribed", 2), ("suppressed", 10), ("failed", 0), ("queued", 0),
            ] {
                #expect(Self.count(name, in: page.body) == value, "\(name)")
            }
            let list = try await h.call(.get, "/api/v1/messaging/suppressions?reason=unsubscribed&limit=100")
            let entries = try #require(try h.object(list.body)["data"] as? [[String: Any]])
            #expect(
                Set(entries.compactMap { $0["email"] as? String }).isSuperset(of: [
                    "customer1@example.com", "customer5@example.com",
                ]))
            #expect(entries.count == 7)
        }
    }
}
