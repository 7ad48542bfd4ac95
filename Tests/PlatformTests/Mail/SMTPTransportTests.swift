import Foundation
import TestSupport
import Testing

@testable import Platform

/// A message exercising every encoder feature that must survive a real SMTP hop.
func richMessage(to: [MailAddress] = [MailAddress("bob@example.org", name: "Bob Builder")]) -> MailMessage {
    MailMessage(
        from: MailAddress("zoe@example.com", name: "Zoë Ågren"), to: to, subject: "Café ☕ déjà vu — test",
        text: "Hello Bob,\n.this line starts with a dot\n..and this with two\n\(longLine)\nBye = end ",
        html: "<p>Hello <b>Bob</b></p>\n.<p>dot</p>",
        headers: [("List-Unsubscribe", "<mailto:unsubscribe@example.com>"), ("X-Campaign", "spring 2024")])
}

let longLine = String((0..<200).map { i in Array("0123456789abcdefghijklmnopqrstuvwxyz")[i % 36] })

/// Fast retries so failure tests stay quick; the retry test uses the real default backoff.
func config(
    _ server: SMTPTestServer, host: String = "127.0.0.1", security: SMTPConfiguration.Security = .none,
    user: String? = nil, password: String? = nil, maxAttempts: Int = 3
) -> SMTPConfiguration {
    var config = SMTPConfiguration(
        host: host, port: server.port, security: security, username: user, password: password)
    config.maxAttempts = maxAttempts
    // Generous: the Python server shares two cores with the rest of the suite (and Chromium) in CI.
    config.commandTimeout = .seconds(15)
    if FileManager.default.fileExists(atPath: server.caPath) { config.trustRoots = .file(server.caPath) }
    return config
}

@Suite struct SMTPTransportTests {
    @Test func plainLoopbackSendDecodesExactly() async throws {
        try await withSMTPServer { server in
            let message = richMessage(to: [
                MailAddress("bob@example.org", name: "Bob Builder"),
                MailAddress("carol@example.org", name: "Doe, Carol"),
            ])
            try await SMTPMailTransport(configuration: config(server)).send(message)
            let envelope = try server.envelope()
            #expect(envelope.mail_from == "zoe@example.com")
            #expect(envelope.rcpt_tos == ["bob@example.org", "carol@example.org"])
            #expect(envelope.tls == false)

            let parsed = try await server.parsedMessage()
            #expect(parsed.defects.isEmpty)
            #expect(parsed.subject == "Café ☕ déjà vu — test")
            #expect(parsed.from == [.init(name: "Zoë Ågren", address: "zoe@example.com")])
            #expect(
                parsed.to == [
                    .init(name: "Bob Builder", address: "bob@example.org"),
                    .init(name: "Doe, Carol", address: "carol@example.org"),
                ])
            #expect(parsed.mime_version == "1.0")
            #expect(parsed.date?.hasSuffix("+0000") == true)
            #expect(parsed.message_id?.hasSuffix("@example.com>") == true)
            #expect(parsed.headers.contains(["List-Unsubscribe", "<mailto:unsubscribe@example.com>"]))
            #expect(parsed.headers.contains(["X-Campaign", "spring 2024"]))
            #expect(parsed.content_type == "multipart/alternative")
            try #require(parsed.parts.count == 2)
            #expect(parsed.parts.map(\.content_type) == ["text/plain", "text/html"])
            #expect(parsed.parts.allSatisfy { $0.charset == "utf-8" && $0.cte == "quoted-printable" })
            #expect(parsed.parts[0].content == message.text)
            #expect(parsed.parts[1].content == message.html)
            #expect(parsed.max_line_length <= 78)
            #expect(!parsed.bare_lf)
            let raw = try server.rawMessage()
            #expect(raw.count > 0)
        }
    }

    @Test func startTLSRequiredWithAuthPlainAndTrustedCA() async throws {
        let options = ServerOptions(tls: true, auth: "mailer:s3cret pass", authRequireTLS: true)
        try await withSMTPServer(options) { server in
            let configuration = config(
                server, host: "localhost", security: .startTLS(required: true), user: "mailer", password: "s3cret pass")
            try await SMTPMailTransport(configuration: configuration).send(richMessage())
            #expect(try server.envelope().tls)
            #expect(try await server.parsedMessage().subject == "Café ☕ déjà vu — test")
        }
    }

    @Test func implicitTLSWithAuth() async throws {
        try await withSMTPServer(ServerOptions(implicitTLS: true, auth: "u:p")) { server in
            let configuration = config(server, security: .implicitTLS, user: "u", password: "p")
            try await SMTPMailTransport(configuration: configuration).send(richMessage())
            #expect(try server.envelope().tls)
        }
    }

    @Test func authLoginWhenOnlyLoginIsOffered() async throws {
        try await withSMTPServer(ServerOptions(auth: "u:p", authLoginOnly: true)) { server in
            try await SMTPMailTransport(configuration: config(server, user: "u", password: "p")).send(richMessage())
            #expect(server.messageCount == 1)
        }
    }

    @Test func repliesSplitAcrossReadsAreReassembled() async throws {
        // Every reply arrives in 3-byte writes; AUTH LOGIN is only found if the multi-line EHLO reply was parsed.
        try await withSMTPServer(ServerOptions(auth: "u:p", authLoginOnly: true, fragment: true)) { server in
            try await SMTPMailTransport(configuration: config(server, user: "u", password: "p")).send(richMessage())
            #expect(try await server.parsedMessage().subject == "Café ☕ déjà vu — test")
        }
    }

    @Test func wrongPasswordFailsWithoutRetry() async throws {
        try await withSMTPServer(ServerOptions(tls: true, auth: "u:p", authRequireTLS: true)) { server in
            let configuration = config(server, security: .startTLS(required: true), user: "u", password: "wrong")
            await #expect(throws: MailError.authenticationFailed) {
                try await SMTPMailTransport(configuration: configuration).send(richMessage())
            }
            #expect(server.connectionCount == 1)
            #expect(server.messageCount == 0)
        }
    }

    @Test func rejectedRecipientIsPermanent() async throws {
        try await withSMTPServer(ServerOptions(rejectRecipients: ["nobody@example.org"])) { server in
            let message = richMessage(to: [MailAddress("bob@example.org"), MailAddress("nobody@example.org")])
            do {
                try await SMTPMailTransport(configuration: config(server)).send(message)
                Issue.record("send should have failed")
            } catch let MailError.rejected(code, text) {
                #expect(code == 550)
                #expect(text.contains("nobody@example.org"))
            }
            #expect(server.connectionCount == 1)
            #expect(server.messageCount == 0)
        }
    }

    @Test func transient421IsRetried() async throws {
        try await withSMTPServer(ServerOptions(failFirst: 1)) { server in
            try await SMTPMailTransport(configuration: config(server)).send(richMessage())
            // Usually exactly 2; on a loaded machine an attempt can also time out and be retried, which is fine.
            #expect(server.connectionCount >= 2)
            #expect(server.messageCount == 1)
        }
    }

    @Test func transientFailuresStopAfterMaxAttempts() async throws {
        try await withSMTPServer(ServerOptions(failFirst: 5)) { server in
            var configuration = config(server, maxAttempts: 2)
            configuration.retryBackoff = [.milliseconds(10)]
            await #expect(throws: MailError.self) {
                try await SMTPMailTransport(configuration: configuration).send(richMessage())
            }
            #expect(server.connectionCount == 2)
        }
    }

    @Test func untrustedCertificateIsATLSError() async throws {
        try await withSMTPServer(ServerOptions(tls: true)) { server in
            var configuration = config(server, security: .startTLS(required: true))
            configuration.trustRoots = .default
            do {
                try await SMTPMailTransport(configuration: configuration).send(richMessage())
                Issue.record("send should have failed")
            } catch let MailError.tls(reason) {
                #expect(!reason.isEmpty)
            }
            #expect(server.connectionCount == 1, "certificate failures are not retried")
            // Explicitly opting out of verification does connect.
            configuration.certificateVerification = .none
            try await SMTPMailTransport(configuration: configuration).send(richMessage())
            #expect(server.messageCount == 1)
        }
    }

    @Test func startTLSPolicyWithoutServerSupport() async throws {
        try await withSMTPServer(ServerOptions(auth: "u:p")) { server in
            await #expect(throws: MailError.tlsUnavailable) {
                try await SMTPMailTransport(configuration: config(server, security: .startTLS(required: true))).send(
                    richMessage())
            }
            // Opportunistic without credentials falls back to plaintext...
            try await SMTPMailTransport(configuration: config(server, security: .startTLS(required: false))).send(
                richMessage())
            #expect(server.messageCount == 1)
            // ...but never with credentials, even on loopback.
            let withCredentials = config(server, security: .startTLS(required: false), user: "u", password: "p")
            await #expect(throws: MailError.insecureCredentials) {
                try await SMTPMailTransport(configuration: withCredentials).send(richMessage())
            }
            #expect(server.messageCount == 1)
        }
    }

    @Test func plaintextCredentialsToRemoteHostRefusedBeforeConnecting() async throws {
        let configuration = SMTPConfiguration(
            host: "mail.example.invalid", port: 25, security: .none, username: "u", password: "p")
        await #expect(throws: MailError.insecureCredentials) {
            try await SMTPMailTransport(configuration: configuration).send(richMessage())
        }
    }

    @Test func silentServerTimesOutAndChannelIsClosed() async throws {
        try await withSMTPServer(ServerOptions(silent: true)) { server in
            var configuration = config(server, maxAttempts: 2)
            configuration.commandTimeout = .milliseconds(300)
            configuration.retryBackoff = [.milliseconds(10)]
            await #expect(throws: MailError.timeout) {
                try await SMTPMailTransport(configuration: configuration).send(richMessage())
            }
            #expect(server.connectionCount == 2)
        }
    }

    @Test func connectionRefusedIsAConnectionError() async throws {
        let server = try await SMTPTestServer.start(ServerOptions())
        await server.stop()
        var configuration = config(server, maxAttempts: 2)
        configuration.retryBackoff = [.milliseconds(10)]
        do {
            try await SMTPMailTransport(configuration: configuration).send(richMessage())
            Issue.record("send should have failed")
        } catch let error as MailError {
            guard case .connection = error else { throw error }
        }
    }
}
