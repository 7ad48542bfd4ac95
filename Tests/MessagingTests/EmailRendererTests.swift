import Foundation
import Kernel
import Testing

@testable import Messaging

@Suite struct EmailRendererTests {
    let signer = LinkSigner(secret: "test-secret")
    let tenant = TenantID(UUID())

    @Test func rendersSubjectTextUnescapedAndHTMLEscaped() throws {
        let compiled = try EmailRenderer.compile(
            subject: "Hello {{name}}\n!", text: "Hi {{name}} & co", html: "<p>Hi {{name}}</p>")
        let rendered = EmailRenderer.render(compiled, data: ["name": "<Zoë & \"Ann\">"])
        #expect(rendered.subject == "Hello <Zoë & \"Ann\"> !")
        #expect(rendered.text == "Hi <Zoë & \"Ann\"> & co")
        #expect(rendered.html == "<p>Hi &lt;Zoë &amp; &quot;Ann&quot;&gt;</p>")
    }

    @Test func sectionsListsAndMissingValues() throws {
        let compiled = try EmailRenderer.compile(
            subject: "{{#vip}}VIP {{/vip}}{{^vip}}Hi{{/vip}}", text: "{{#items}}- {{title}}\n{{/items}}{{missing}}.",
            html: nil)
        let rendered = EmailRenderer.render(
            compiled, data: ["vip": false, "items": [["title": "A"], ["title": "B"]]])
        #expect(rendered.subject == "Hi")
        #expect(rendered.text == "- A\n- B\n.")
        #expect(rendered.html == nil)
    }

    @Test func syntaxErrorsNameThePart() {
        #expect(throws: TemplateError.self) { try EmailRenderer.compile(subject: "ok", text: "{{#open}}", html: nil) }
        do {
            _ = try EmailRenderer.compile(subject: "ok", text: "fine", html: "{{#a}}{{/b}}")
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "html")
        }
    }

    @Test func trackingRewritesWebLinksAndAddsThePixel() throws {
        let message = ID<EmailMessage>.generate()
        let tracking = EmailRenderer.Tracking(
            base: "https://app.example", signer: signer, tenant: tenant, message: message)
        let compiled = try EmailRenderer.compile(
            subject: "s", text: "t",
            html: """
                <html><body><a href="https://shop.example/a?x=1&amp;y=2">shop</a> <a href="mailto:x@example.com">m</a>
                <a href="{{unsubscribe_url}}">u</a></body></html>
                """)
        let rendered = EmailRenderer.render(
            compiled, data: ["unsubscribe_url": "https://app.example/messaging/u/abc"], tracking: tracking)
        let html = try #require(rendered.html)
        #expect(!html.contains("https://shop.example"))
        #expect(html.contains("href=\"mailto:x@example.com\""))
        #expect(html.contains("href=\"https://app.example/messaging/u/abc\""))
        #expect(html.contains("/messaging/t/o/"))
        #expect(html.range(of: "/messaging/t/o/")!.lowerBound < html.range(of: "</body>")!.lowerBound)
        // The click token carries the original URL, unescaped.
        let start = try #require(html.range(of: "https://app.example/messaging/t/c/"))
        let token = String(html[start.upperBound...].prefix { $0 != "\"" })
        let link = try #require(signer.verify(token, expecting: .click))
        #expect(link.url == "https://shop.example/a?x=1&y=2")
        #expect(link.message == message)
        #expect(link.tenant == tenant)
    }

    @Test func linksAreBoundToTheirKindKeyAndContent() throws {
        let message = ID<EmailMessage>.generate()
        let token = signer.token(.unsubscribe, tenant: tenant, message: message)
        #expect(signer.verify(token, expecting: .unsubscribe)?.message == message)
        #expect(signer.verify(token, expecting: .open) == nil)
        #expect(LinkSigner(secret: "other").verify(token, expecting: .unsubscribe) == nil)
        // Any change to the payload breaks the signature.
        var tampered = Array(token)
        tampered[3] = tampered[3] == "A" ? "B" : "A"
        #expect(signer.verify(String(tampered), expecting: .unsubscribe) == nil)
        #expect(signer.verify("garbage", expecting: .unsubscribe) == nil)
    }
}
