import Foundation
import Logging

/// What modules send mail through: a transport and the installation's sender address.
package struct Mailer: Sendable {
    package let transport: any MailTransport
    package let from: MailAddress

    package init(transport: any MailTransport, from: MailAddress) {
        self.transport = transport
        self.from = from
    }

    /// Sends a text (and optionally HTML) message to one recipient.
    package func send(to recipient: MailAddress, subject: String, text: String, html: String? = nil) async throws {
        try await transport.send(MailMessage(from: from, to: [recipient], subject: subject, text: text, html: html))
    }
}

extension MailAddress {
    /// Parses `address` or `Name <address>`; `nil` when there is no plausible address.
    package static func parse(_ text: String) -> MailAddress? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: ["\""])
            guard isPlausible(address) else { return nil }
            return MailAddress(address, name: name.isEmpty ? nil : name)
        }
        return isPlausible(trimmed) ? MailAddress(trimmed) : nil
    }

    private static func isPlausible(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !address.contains(where: { $0.isWhitespace || $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" })
    }
}

extension Mailer {
    /// The mailer a configuration asks for: SMTP when `mail_url` is set, else `.eml` files in the data directory.
    package static func configured(_ configuration: InopsioConfiguration) throws -> Mailer {
        let from = MailAddress.parse(configuration.mailFrom) ?? MailAddress("no-reply@localhost", name: "Inopsio")
        if let url = configuration.mailURL, let sendGrid = try SendGridMailTransport.parse(url: url) {
            return Mailer(transport: sendGrid, from: from)
        }
        if let url = configuration.mailURL {
            return Mailer(
                transport: SMTPMailTransport(configuration: try SMTPConfiguration.parse(url: url)), from: from)
        }
        let directory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("mail")
        return Mailer(transport: FileMailTransport(directory: directory), from: from)
    }
}
