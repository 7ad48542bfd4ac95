import Foundation
import Logging
import NIOCore
import NIOSSL

/// Delivers mail to an SMTP relay (submission, SMTPS, or a local MTA), retrying only failures that may pass later.
package struct SMTPMailTransport: MailTransport {
    package let configuration: SMTPConfiguration
    private let logger: Logger

    package init(configuration: SMTPConfiguration, logger: Logger = Logger(label: "mail.smtp")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Validates and encodes once, then tries up to `maxAttempts` connections, sleeping per `retryBackoff`.
    package func send(_ message: MailMessage) async throws {
        try MIMEEncoder.validate(message)
        let domain = message.from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        let messageID = "\(UUID().uuidString.lowercased())@\(domain)"
        let text = MIMEEncoder.encode(message, date: Date(), messageID: messageID)
        let envelope = Envelope(
            from: message.from.address, to: message.to.map(\.address), data: Self.dataPayload(text))
        let tls = try makeTLSContext()
        if configuration.security == .none, configuration.credentials != nil, !configuration.hostIsLoopback {
            throw MailError.insecureCredentials
        }
        var attempt = 1
        while true {
            do {
                try await deliver(envelope, tls: tls)
                logger.debug("mail sent", metadata: ["message-id": "\(messageID)", "attempt": "\(attempt)"])
                return
            } catch let error as MailError where error.isTransient && attempt < configuration.maxAttempts {
                let delay =
                    configuration.retryBackoff.isEmpty
                    ? .zero : configuration.retryBackoff[min(attempt - 1, configuration.retryBackoff.count - 1)]
                logger.warning(
                    "mail delivery failed, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// What SMTP needs beyond the headers: envelope addresses (Bcc-style recipients live only here) and the body.
    struct Envelope {
        var from: String
        var to: [String]
        var data: ByteBuffer
    }

    /// Dot-stuffs the message (RFC 5321 §4.5.2) and appends the `CRLF.CRLF` terminator.
    static func dataPayload(_ message: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.utf8.count + message.utf8.count / 64 + 5)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in message.utf8 {
            if atLineStart, byte == UInt8(ascii: ".") { buffer.writeInteger(byte) }
            buffer.writeInteger(byte)
            atLineStart = previous == UInt8(ascii: "\r") && byte == UInt8(ascii: "\n")
            previous = byte
        }
        if !atLineStart { buffer.writeString("\r\n") }
        buffer.writeString(".\r\n")
        return buffer
    }

    /// Built once per `send` so a bad CA path fails immediately instead of once per attempt.
    private func makeTLSContext() throws(MailError) -> NIOSSLContext? {
        if configuration.security == .none { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = configuration.certificateVerification == .none ? .none : .fullVerification
        if case .file(let path) = configuration.trustRoots {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .invalidConfiguration("CA file \(path) is not readable")
            }
            tls.trustRoots = .file(path)
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw .tls("cannot create TLS context: \(error)")
        }
    }

    /// One attempt on a fresh connection; the channel is closed on every path out of here.
    private func deliver(_ envelope: Envelope, tls: NIOSSLContext?) async throws {
        var connection = try await SMTPConnection.connect(
            configuration: configuration, implicitTLS: configuration.security == .implicitTLS ? tls : nil,
            logger: logger)
        do {
            try await converse(&connection, envelope: envelope, tls: tls)
        } catch let error as MailError {
            switch error {
            case .rejected, .authenticationFailed, .tlsUnavailable, .insecureCredentials:
                await connection.quitAndClose()
            default:
                await connection.close()
            }
            throw error
        } catch {
            await connection.close()
            throw error is CancellationError ? error : MailError.connection(String(describing: error))
        }
        await connection.quitAndClose()
    }

    /// The SMTP dialogue from greeting to the final `250` after the message data.
    private func converse(_ connection: inout SMTPConnection, envelope: Envelope, tls: NIOSSLContext?) async throws {
        try expect(await connection.readReply(), 220)
        var extensions = try await hello(&connection)
        if case .startTLS(let required) = configuration.security, let tls {
            var upgraded = false
            if extensions["STARTTLS"] != nil {
                let reply = try await connection.command("STARTTLS")
                if reply.code == 220 {
                    try await connection.startTLS(context: tls, host: configuration.host)
                    extensions = try await hello(&connection)
                    upgraded = true
                }
            }
            if required, !upgraded { throw MailError.tlsUnavailable }
        }
        if let credentials = configuration.credentials {
            guard connection.isTLS || (configuration.security == .none && configuration.hostIsLoopback) else {
                throw MailError.insecureCredentials
            }
            try await authenticate(&connection, credentials: credentials, mechanisms: extensions["AUTH"] ?? [])
        }
        try expect(await connection.command("MAIL FROM:<\(envelope.from)>"), 250)
        for recipient in envelope.to {
            try expect(await connection.command("RCPT TO:<\(recipient)>"), 250, 251)
        }
        try expect(await connection.command("DATA"), 354)
        try expect(await connection.sendData(envelope.data), 250)
    }

    /// EHLO (falling back to HELO for ancient servers); returns extension keywords mapped to their parameters.
    private func hello(_ connection: inout SMTPConnection) async throws -> [String: [String]] {
        let reply = try await connection.command("EHLO \(configuration.heloName)")
        if (500...504).contains(reply.code) {
            try expect(await connection.command("HELO \(configuration.heloName)"), 250)
            return [:]
        }
        try expect(reply, 250)
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { $0.uppercased() }
            if let keyword = words.first { extensions[keyword, default: []] += words.dropFirst() }
        }
        return extensions
    }

    /// AUTH PLAIN when offered (one round trip), else AUTH LOGIN; 4xx stays retryable, anything else is a refusal.
    private func authenticate(
        _ connection: inout SMTPConnection, credentials: (username: String, password: String), mechanisms: [String]
    ) async throws {
        let reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            let token = Data("\0\(credentials.username)\0\(credentials.password)".utf8).base64EncodedString()
            reply = try await connection.command("AUTH PLAIN \(token)", logged: "AUTH PLAIN ***")
        } else if mechanisms.contains("LOGIN") {
            try expectAuth(await connection.command("AUTH LOGIN"), 334)
            let user = Data(credentials.username.utf8).base64EncodedString()
            try expectAuth(await connection.command(user, logged: "***"), 334)
            let password = Data(credentials.password.utf8).base64EncodedString()
            reply = try await connection.command(password, logged: "***")
        } else {
            logger.error("server offers no supported AUTH mechanism", metadata: ["offered": "\(mechanisms)"])
            throw MailError.authenticationFailed
        }
        try expectAuth(reply, 235)
    }

    /// Separates "wrong credentials" (never retried) from a 4xx "try later" (retried like any transient reply).
    private func expectAuth(_ reply: SMTPReply, _ code: Int) throws {
        guard reply.code != code else { return }
        if (400..<500).contains(reply.code) { throw MailError.rejected(code: reply.code, message: reply.message) }
        logger.error("SMTP authentication refused", metadata: ["code": "\(reply.code)", "reply": "\(reply.message)"])
        throw MailError.authenticationFailed
    }

    /// Any unexpected code becomes `rejected`, whose 4xx/5xx class then drives the retry decision.
    private func expect(_ reply: SMTPReply, _ codes: Int...) throws {
        guard !codes.contains(reply.code) else { return }
        throw MailError.rejected(code: reply.code, message: reply.message)
    }
}
