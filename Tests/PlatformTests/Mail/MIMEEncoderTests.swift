import Foundation
import Testing

@testable import Platform

/// Decodes quoted-printable so tests can check the round trip, not just the shape.
func decodeQuotedPrintable(_ encoded: String) -> [UInt8] {
    var bytes: [UInt8] = []
    let input = Array(encoded.utf8)
    var index = 0
    while index < input.count {
        if input[index] == UInt8(ascii: "="), index + 2 < input.count, input[index + 1] == 13, input[index + 2] == 10 {
            index += 3
        } else if input[index] == UInt8(ascii: "="), index + 2 < input.count,
            let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
        {
            bytes.append(value)
            index += 3
        } else {
            bytes.append(input[index])
            index += 1
        }
    }
    return bytes
}

let sampleDate = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 +0000

@Suite struct MIMEEncoderTests {
    @Test func singlePartHeadersAndCRLF() throws {
        let message = MailMessage(
            from: MailAddress("ada@example.com", name: "Ada Lovelace"),
            to: [MailAddress("bob@example.org"), MailAddress("carol@example.org", name: "Doe, Carol")],
            subject: "Hello", text: "Line one\nLine two", headers: [("List-Unsubscribe", "<mailto:u@example.com>")])
        try MIMEEncoder.validate(message)
        let encoded = MIMEEncoder.encode(message, date: sampleDate, messageID: "abc@example.com")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(!encoded.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(encoded.hasSuffix("\r\n"))
        #expect(lines.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000"))
        #expect(lines.contains("From: Ada Lovelace <ada@example.com>"))
        #expect(lines.contains("To: bob@example.org, \"Doe, Carol\" <carol@example.org>"))
        #expect(lines.contains("Subject: Hello"))
        #expect(lines.contains("Message-ID: <abc@example.com>"))
        #expect(lines.contains("MIME-Version: 1.0"))
        #expect(lines.contains("List-Unsubscribe: <mailto:u@example.com>"))
        #expect(lines.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(lines.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(!encoded.contains("multipart"))
        #expect(encoded.hasSuffix("\r\n\r\nLine one\r\nLine two\r\n"))
    }

    @Test func multipartAlternativeOrdersTextThenHTML() throws {
        let message = MailMessage(
            from: MailAddress("a@example.com"), to: [MailAddress("b@example.com")], subject: "S",
            text: "plain body", html: "<p>html body</p>")
        let encoded = MIMEEncoder.encode(message, date: sampleDate, messageID: "id@x")
        let unfolded = encoded.replacingOccurrences(of: "\r\n ", with: " ")
        #expect(unfolded.contains("\r\nContent-Type: multipart/alternative; boundary=\"=_"))
        let match = try #require(encoded.firstMatch(of: /boundary="([^"]+)"/))
        let boundary = String(match.1)
        #expect(boundary.hasPrefix("=_"))
        let textIndex = try #require(encoded.range(of: "Content-Type: text/plain; charset=utf-8"))
        let htmlIndex = try #require(encoded.range(of: "Content-Type: text/html; charset=utf-8"))
        #expect(textIndex.lowerBound < htmlIndex.lowerBound)
        #expect(encoded.components(separatedBy: "\r\n--\(boundary)\r\n").count == 3)
        #expect(encoded.hasSuffix("\r\n--\(boundary)--\r\n"))
        let other = MIMEEncoder.encode(message, date: sampleDate, messageID: "id@x")
        #expect(!other.contains(String(boundary)), "boundary must be random per message")
    }

    @Test func quotedPrintableRules() {
        #expect(QuotedPrintable.encode("a=b") == "a=3Db")
        #expect(QuotedPrintable.encode("trailing  \nnext\t") == "trailing =20\r\nnext=09")
        #expect(QuotedPrintable.encode("déjà ☕") == "d=C3=A9j=C3=A0 =E2=98=95")
        #expect(QuotedPrintable.encode("a\r\nb\rc\nd") == "a\r\nb\r\nc\r\nd")
        let exact = String(repeating: "x", count: 76)
        #expect(QuotedPrintable.encode(exact) == exact, "a 76-character line needs no soft break")
    }

    @Test(arguments: [200, 77, 1000]) func quotedPrintableSoftBreaks(length: Int) {
        let line = String((0..<length).map { i in Array("abcdéfgh=ij ☕")[i % 13] })
        let encoded = QuotedPrintable.encode(line)
        let physical = encoded.components(separatedBy: "\r\n")
        #expect(physical.count > 1)
        #expect(physical.allSatisfy { $0.utf8.count <= 76 })
        #expect(physical.dropLast().allSatisfy { $0.hasSuffix("=") })
        #expect(decodeQuotedPrintable(encoded) == Array(line.utf8))
    }

    @Test func encodedWordsNeverSplitCharactersAndStayShort() throws {
        let subject = String(repeating: "Café ☕ déjà vu — test 🎉 ", count: 6)
        let words = HeaderEncoding.encodedWords(subject)
        #expect(words.count > 3)
        var joined: [UInt8] = []
        for word in words {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let payload = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            #expect(String(validating: payload, as: UTF8.self) != nil, "each word holds whole characters")
            joined += payload
        }
        #expect(String(decoding: joined, as: UTF8.self) == subject)
    }

    @Test func nonASCIISubjectAndNamesBecomeEncodedWords() {
        let message = MailMessage(
            from: MailAddress("zoe@example.com", name: "Zoë Ågren"), to: [MailAddress("b@example.com")],
            subject: "Café ☕ déjà vu — test", text: "x")
        let encoded = MIMEEncoder.encode(message, date: sampleDate, messageID: "id@x")
        let nameWord = "=?UTF-8?B?" + Data("Zoë Ågren".utf8).base64EncodedString() + "?="
        #expect(encoded.contains("From: \(nameWord) <zoe@example.com>"))
        #expect(encoded.contains("Subject: =?UTF-8?B?"))
        let headerPart = encoded.components(separatedBy: "\r\n\r\n")[0]
        #expect(headerPart.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func displayNameQuoting() {
        #expect(HeaderEncoding.phrase("Ada Lovelace") == "Ada Lovelace")
        #expect(HeaderEncoding.phrase("Doe, John") == "\"Doe, John\"")
        #expect(HeaderEncoding.phrase("John Q. Public") == "\"John Q. Public\"")
        #expect(HeaderEncoding.phrase("Ada \"Countess\" L\\") == "\"Ada \\\"Countess\\\" L\\\\\"")
        #expect(HeaderEncoding.phrase("a@b <c>") == "\"a@b <c>\"")
        #expect(HeaderEncoding.mailbox(MailAddress("x@y.z", name: "")) == "x@y.z")
    }

    @Test func longHeadersAreFolded() {
        let recipients = (0..<40).map { MailAddress("user\($0)@example.com", name: "User Number \($0)") }
        let message = MailMessage(
            from: MailAddress("a@example.com"), to: recipients, subject: String(repeating: "word ", count: 100),
            text: "x", headers: [("X-Token", String(repeating: "t", count: 2000))])
        let encoded = MIMEEncoder.encode(message, date: sampleDate, messageID: "id@x")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        #expect(!lines.contains { !$0.isEmpty && $0.allSatisfy { $0 == " " } }, "no whitespace-only lines")
        let unfolded = encoded.replacingOccurrences(of: "\r\n ", with: " ")
        #expect(unfolded.contains("User Number 39 <user39@example.com>"))
    }

    @Test func headerInjectionIsRefused() {
        let base = MailMessage(
            from: MailAddress("a@example.com"), to: [MailAddress("b@example.com")], subject: "ok", text: "")
        var message = base
        message.subject = "Hi\r\nBcc: victim@example.com"
        #expect(throws: MailError.invalidHeader("Subject contains a line break")) { try MIMEEncoder.validate(message) }
        let encoded = MIMEEncoder.encode(message, date: sampleDate, messageID: "id@x")
        #expect(!encoded.contains("\r\nBcc:"), "encode neutralizes what validate reports")

        message = base
        message.to = [MailAddress("b@example.com", name: "Bob\nBcc: x@y.z")]
        #expect(throws: MailError.self) { try MIMEEncoder.validate(message) }
        message = base
        message.headers = [("X-Note", "fine\nX-Evil: 1")]
        #expect(throws: MailError.self) { try MIMEEncoder.validate(message) }
        message = base
        message.headers = [("Bad Name", "v")]
        #expect(throws: MailError.self) { try MIMEEncoder.validate(message) }
        message = base
        message.headers = [("subject", "second subject")]
        #expect(throws: MailError.self) { try MIMEEncoder.validate(message) }
        message = base
        message.to = [MailAddress("b@example.com>\r\nRCPT TO:<c@example.com")]
        #expect(throws: MailError.self) { try MIMEEncoder.validate(message) }
        message = base
        message.to = []
        #expect(throws: MailError.invalidAddress("no recipients")) { try MIMEEncoder.validate(message) }
        #expect(throws: Never.self) { try MIMEEncoder.validate(base) }
    }

    @Test func dotStuffingAndTerminator() {
        let payload = SMTPMailTransport.dataPayload(".hello\r\nmid.dle\r\n..two\r\n.")
        #expect(
            String(decoding: Array(payload.readableBytesView), as: UTF8.self)
                == "..hello\r\nmid.dle\r\n...two\r\n..\r\n.\r\n")
    }
}
