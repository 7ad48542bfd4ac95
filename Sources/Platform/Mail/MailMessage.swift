import Foundation

/// An email address with an optional display name (`Ada Lovelace <ada@example.com>`).
package struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    package var name: String?
    package var address: String

    package init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    package var description: String { name.map { "\($0) <\(address)>" } ?? address }
}

/// A message to send: plain text always, HTML optionally (sent as multipart/alternative).
package struct MailMessage: Sendable, Equatable {
    package var from: MailAddress
    package var to: [MailAddress]
    package var subject: String
    package var text: String
    package var html: String?
    /// Extra header fields (`List-Unsubscribe`, ...), in order.
    package var headers: [(name: String, value: String)]

    package init(
        from: MailAddress, to: [MailAddress], subject: String, text: String, html: String? = nil,
        headers: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = headers
    }

    package static func == (lhs: MailMessage, rhs: MailMessage) -> Bool {
        lhs.from == rhs.from && lhs.to == rhs.to && lhs.subject == rhs.subject && lhs.text == rhs.text
            && lhs.html == rhs.html && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// Something that delivers mail: SMTP in production, `.eml` files in development and tests.
package protocol MailTransport: Sendable {
    /// Sends `message`; throws when it was not accepted (after the transport's own retries).
    func send(_ message: MailMessage) async throws
}
