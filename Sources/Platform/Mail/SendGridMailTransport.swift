import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Mail through SendGrid's v3 HTTP API (`POST /v3/mail/send`) instead of SMTP: `mail_url =
/// sendgrid://apikey:API_KEY@api.sendgrid.com` (the key in the password place, as SendGrid's SMTP relay takes it,
/// so `config print` redacts it), or `sendgrid+http://apikey:KEY@host:port` for a local stand-in. The
/// message's text and HTML parts, extra headers (`List-Unsubscribe`, ...), and reply-to travel as SendGrid's JSON;
/// SendGrid builds the MIME itself.
///
/// Answers map onto `MailError` as SMTP's would: 2xx sent; 429 and 5xx `rejected` with a 4xx code (transient:
/// tried again, here up to `maxAttempts` with a pause, and by the job queue); any other 4xx `rejected` with 554
/// (permanent). Bounces and complaints SendGrid learns later arrive through its event webhook, which is not
/// built yet.
package struct SendGridMailTransport: MailTransport {
    package let baseURL: String
    let apiKey: String
    let maxAttempts: Int
    let logger: Logger

    package init(baseURL: String, apiKey: String, maxAttempts: Int = 3, logger: Logger = Logger(label: "mail.sendgrid"))
    {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.maxAttempts = maxAttempts
        self.logger = logger
    }

    /// `sendgrid://apikey:KEY@host[:port]` (HTTPS) or `sendgrid+http://apikey:KEY@host:port`; nil for other
    /// schemes.
    package static func parse(url: String) throws(MailError) -> SendGridMailTransport? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "sendgrid" || scheme == "sendgrid+http"
        else { return nil }
        guard let key = components.password?.removingPercentEncoding, !key.isEmpty else {
            throw .invalidConfiguration(
                "a SendGrid URL carries the API key as its password: sendgrid://apikey:KEY@api.sendgrid.com")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidConfiguration("missing host") }
        let port = components.port.map { ":\($0)" } ?? ""
        return SendGridMailTransport(
            baseURL: "\(scheme == "sendgrid" ? "https" : "http")://\(host)\(port)", apiKey: key)
    }

    struct Address: Encodable {
        let email: String
        let name: String?

        init(_ address: MailAddress) {
            email = address.address
            name = address.name
        }
    }

    struct Personalization: Encodable {
        let to: [Address]
    }

    struct Content: Encodable {
        let type: String
        let value: String
    }

    struct Body: Encodable {
        let personalizations: [Personalization]
        let from: Address
        let replyTo: Address?
        let subject: String
        let content: [Content]
        let headers: [String: String]?

        enum CodingKeys: String, CodingKey {
            case personalizations, from, subject, content, headers
            case replyTo = "reply_to"
        }
    }

    /// The request body for `message` (checked like an SMTP message first: no header injection, valid addresses).
    static func body(for message: MailMessage) throws -> Data {
        try MIMEEncoder.validate(message)
        var headers: [String: String] = [:]
        var replyTo: Address?
        for header in message.headers {
            if header.name.lowercased() == "reply-to", let address = MailAddress.parse(header.value) {
                replyTo = Address(address)
            } else {
                headers[header.name] = header.value
            }
        }
        var content = [Content(type: "text/plain", value: message.text)]
        if let html = message.html { content.append(Content(type: "text/html", value: html)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(
            Body(
                personalizations: [Personalization(to: message.to.map(Address.init))], from: Address(message.from),
                replyTo: replyTo, subject: message.subject, content: content,
                headers: headers.isEmpty ? nil : headers))
    }

    package func send(_ message: MailMessage) async throws {
        let body = try Self.body(for: message)
        var lastError: MailError = .connection("not tried")
        for attempt in 1...max(1, maxAttempts) {
            if attempt > 1 { try await Task.sleep(for: .milliseconds(500 * (1 << (attempt - 2)))) }
            var request = HTTPClientRequest(url: baseURL + "/v3/mail/send")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(apiKey)")
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                let answer = String(buffer: try await response.body.collect(upTo: 64 * 1024))
                let code = Int(response.status.code)
                if (200..<300).contains(code) { return }
                let detail = "SendGrid answered \(code): \(answer.prefix(500))"
                if code == 429 || code >= 500 {
                    lastError = .rejected(code: 421, message: detail)
                    logger.warning(
                        "mail delivery failed, retrying", metadata: ["attempt": "\(attempt)", "status": "\(code)"])
                    continue
                }
                throw MailError.rejected(code: 554, message: detail)
            } catch let error as MailError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = .connection("\(error)")
            }
        }
        throw lastError
    }
}
