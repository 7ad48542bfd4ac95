import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Platform

/// The SendGrid transport against a local HTTP server standing in for `api.sendgrid.com` (the real API is not
/// reachable from this machine): what it sends, and how it reads SendGrid's answers.
@Suite struct SendGridTransportTests {
    final class Recorder: Sendable {
        let requests = Mutex<[(authorization: String?, body: String)]>([])
        let answers = Mutex<[HTTPResponse.Status]>([])
    }

    func withStandIn(_ answers: [HTTPResponse.Status], _ body: @Sendable (Int, Recorder) async throws -> Void)
        async throws
    {
        let recorder = Recorder()
        recorder.answers.withLock { $0 = answers }
        let router = Router()
        router.post("/v3/mail/send") { request, context -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            recorder.requests.withLock {
                $0.append((request.headers[.authorization], String(buffer: buffer)))
            }
            let status = recorder.answers.withLock { $0.isEmpty ? .accepted : $0.removeFirst() }
            return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: #"{"errors":[]}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port), recorder) }
    }

    static let message = MailMessage(
        from: MailAddress("news@example.com", name: "Bäckerei Müller"),
        to: [MailAddress("zoe@example.com", name: "Zoë Ågren")], subject: "Grüße — Ausgabe 1", text: "Hallo Zoë",
        html: "<p>Hallo Zoë</p>",
        headers: [
            ("List-Unsubscribe", "<https://app.example/messaging/u/abc>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), ("Reply-To", "Help <help@example.com>"),
        ])

    @Test func sendsTheMessageAsSendGridJSON() async throws {
        try await withStandIn([]) { port, recorder in
            let transport = try #require(
                try SendGridMailTransport.parse(url: "sendgrid+http://apikey:SG.secret@127.0.0.1:\(port)"))
            try await transport.send(Self.message)
            let request = try #require(recorder.requests.withLock { $0.first })
            #expect(request.authorization == "Bearer SG.secret")
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
            #expect(json["subject"] as? String == "Grüße — Ausgabe 1")
            #expect((json["from"] as? [String: String]) == ["email": "news@example.com", "name": "Bäckerei Müller"])
            #expect((json["reply_to"] as? [String: String]) == ["email": "help@example.com", "name": "Help"])
            let to = (json["personalizations"] as? [[String: Any]])?.first?["to"] as? [[String: String]]
            #expect(to == [["email": "zoe@example.com", "name": "Zoë Ågren"]])
            let content = json["content"] as? [[String: String]]
            #expect(
                content == [
                    ["type": "text/plain", "value": "Hallo Zoë"], ["type": "text/html", "value": "<p>Hallo Zoë</p>"],
                ])
            #expect(
                (json["headers"] as? [String: String])
                    == [
                        "List-Unsubscribe": "<https://app.example/messaging/u/abc>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    ])
        }
    }

    @Test func rateLimitsAreRetriedAndRefusalsArePermanent() async throws {
        try await withStandIn([.tooManyRequests, .accepted]) { port, recorder in
            let transport = SendGridMailTransport(baseURL: "http://127.0.0.1:\(port)", apiKey: "k")
            try await transport.send(Self.message)
            #expect(recorder.requests.withLock { $0.count } == 2)
        }
        try await withStandIn([.badRequest]) { port, recorder in
            let transport = SendGridMailTransport(baseURL: "http://127.0.0.1:\(port)", apiKey: "k")
            do {
                try await transport.send(Self.message)
                Issue.record("a 400 must fail")
            } catch let error as MailError {
                #expect(!error.isTransient)
                guard case .rejected(554, _) = error else { Issue.record("\(error)"); return }
            }
            #expect(recorder.requests.withLock { $0.count } == 1)
        }
        try await withStandIn([.serviceUnavailable, .serviceUnavailable, .serviceUnavailable]) { port, _ in
            let transport = SendGridMailTransport(baseURL: "http://127.0.0.1:\(port)", apiKey: "k")
            await #expect(throws: MailError.self) { try await transport.send(Self.message) }
        }
    }

    @Test func urlsAndRedaction() throws {
        #expect(try SendGridMailTransport.parse(url: "smtp://mail.example.com") == nil)
        #expect(
            try SendGridMailTransport.parse(url: "sendgrid://apikey:SG.x@api.sendgrid.com")?.baseURL
                == "https://api.sendgrid.com")
        #expect(throws: MailError.self) { try SendGridMailTransport.parse(url: "sendgrid://api.sendgrid.com") }
        #expect(!Redaction.redactURL("sendgrid://apikey:SG.x@api.sendgrid.com").contains("SG.x"))
        // A header that would break the message is refused before anything is sent.
        var bad = Self.message
        bad.headers = [("X-Test", "a\r\nBcc: someone@example.com")]
        #expect(throws: MailError.self) { try SendGridMailTransport.body(for: bad) }
    }
}
