import Foundation

/// Turns a `MailMessage` into RFC 5322 / MIME text ready for SMTP `DATA`, so transports never build headers themselves.
package enum MIMEEncoder {
    /// Fields the encoder writes itself; letting `message.headers` repeat them would produce an ambiguous message.
    static let reservedHeaderNames: Set<String> = [
        "date", "from", "to", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding",
    ]

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Encodes `message` with CRLF line endings. Call `validate(_:)` first: this function cannot fail, so it
    /// neutralizes (rather than reports) CR/LF in header values.
    package static func encode(_ message: MailMessage, date: Date, messageID: String) -> String {
        var fields: [(String, String)] = [
            ("Date", rfc5322Date(date)),
            ("From", HeaderEncoding.mailbox(message.from)),
            ("To", message.to.map(HeaderEncoding.mailbox).joined(separator: ", ")),
            ("Subject", HeaderEncoding.unstructured(HeaderEncoding.sanitized(message.subject), fieldName: "Subject")),
            ("Message-ID", "<\(HeaderEncoding.sanitized(messageID))>"),
            ("MIME-Version", "1.0"),
        ]
        for header in message.headers {
            let name = HeaderEncoding.sanitized(header.name).replacingOccurrences(of: " ", with: "-")
            fields.append((name, HeaderEncoding.unstructured(HeaderEncoding.sanitized(header.value), fieldName: name)))
        }
        var lines = fields.map { HeaderEncoding.fold(name: $0.0, value: $0.1) }
        if let html = message.html {
            let boundary = "=_mail_" + UUID().uuidString
            lines.append(
                HeaderEncoding.fold(name: "Content-Type", value: "multipart/alternative; boundary=\"\(boundary)\""))
            lines.append("")
            lines.append("This is a multi-part message in MIME format.")
            lines.append("--" + boundary)
            lines.append(part(contentType: "text/plain; charset=utf-8", body: message.text))
            lines.append("--" + boundary)
            lines.append(part(contentType: "text/html; charset=utf-8", body: html))
            lines.append("--" + boundary + "--")
        } else {
            lines.append(part(contentType: "text/plain; charset=utf-8", body: message.text))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One entity (headers, blank line, body); the `=_` boundary prefix can never occur in quoted-printable output.
    static func part(contentType: String, body: String) -> String {
        [
            "Content-Type: " + contentType,
            "Content-Transfer-Encoding: quoted-printable",
            "",
            QuotedPrintable.encode(body),
        ].joined(separator: "\r\n")
    }

    /// RFC 5322 §3.3 date in UTC, spelled with fixed English names so the host locale cannot change it.
    package static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let weekday = weekdays[((c.weekday ?? 1) - 1) % 7]
        let month = months[((c.month ?? 1) - 1) % 12]
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return
            "\(weekday), \(two(c.day)) \(month) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    /// Checks everything `encode` would otherwise have to silently repair, so callers get a precise error instead.
    package static func validate(_ message: MailMessage) throws(MailError) {
        try validateAddress(message.from)
        guard !message.to.isEmpty else { throw .invalidAddress("no recipients") }
        for recipient in message.to { try validateAddress(recipient) }
        try validateHeaderValue(message.subject, field: "Subject")
        for header in message.headers {
            let nameIsValid =
                !header.name.isEmpty
                && header.name.unicodeScalars.allSatisfy { (33...126).contains($0.value) && $0 != ":" }
            guard nameIsValid else { throw .invalidHeader("invalid field name \(header.name.debugDescription)") }
            guard !reservedHeaderNames.contains(header.name.lowercased()) else {
                throw .invalidHeader("\(header.name) is set by the encoder")
            }
            try validateHeaderValue(header.value, field: header.name)
        }
    }

    /// CR or LF in a value is the classic header-injection vector (e.g. a user-supplied name adding `Bcc:`).
    static func validateHeaderValue(_ value: String, field: String) throws(MailError) {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw .invalidHeader("\(field) contains a line break")
        }
    }

    /// Envelope addresses are sent raw in `MAIL FROM:<...>`, so only plain ASCII addr-specs are accepted
    /// (no quoted local parts, no SMTPUTF8).
    static func validateAddress(_ address: MailAddress) throws(MailError) {
        if let name = address.name { try validateHeaderValue(name, field: "display name") }
        let addr = address.address
        let forbidden = Set("<>()[]\\,;:\" ".unicodeScalars)
        let isPlain = addr.unicodeScalars.allSatisfy { (33...126).contains($0.value) && !forbidden.contains($0) }
        guard isPlain, addr.utf8.count <= 254, let at = addr.lastIndex(of: "@"),
            at != addr.startIndex, addr.index(after: at) != addr.endIndex
        else { throw .invalidAddress(addr.debugDescription) }
    }
}
