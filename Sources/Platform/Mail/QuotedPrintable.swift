/// RFC 2045 quoted-printable body encoding, so UTF-8 text survives 7-bit relays and the 998-octet line limit.
package enum QuotedPrintable {
    /// Longest encoded line, soft-break `=` included (RFC 2045 §6.7 rule 5).
    static let maxLineLength = 76

    /// Encodes `text` as quoted-printable; any of CRLF, LF or CR become hard CRLF line breaks.
    package static func encode(_ text: String) -> String {
        var output: [String] = []
        for line in splitLines(text) {
            output.append(encodeLine(Array(line.utf8)))
        }
        return output.joined(separator: "\r\n")
    }

    /// Normalizes every line-ending style because a bare CR or LF in a body is illegal in RFC 5322 messages.
    static func splitLines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        // `Character` treats "\r\n" as one grapheme, so all three endings are single characters here.
        while index < text.endIndex {
            let character = text[index]
            if character == "\r\n" || character == "\n" || character == "\r" {
                lines.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        lines.append(text[start..<text.endIndex])
        return lines
    }

    /// Encodes one logical line, inserting soft breaks so no physical line exceeds 76 characters.
    static func encodeLine(_ bytes: [UInt8]) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(bytes.count)
        for (offset, byte) in bytes.enumerated() {
            let isLast = offset == bytes.count - 1
            tokens.append(token(for: byte, atEndOfLine: isLast))
        }
        var lines: [String] = []
        var current = ""
        var currentLength = 0
        var remaining = tokens.reduce(0) { $0 + $1.utf8.count }
        for token in tokens {
            let length = token.utf8.count
            // The final physical line needs no "=", so it may use all 76 characters.
            if currentLength + remaining > maxLineLength, currentLength + length > maxLineLength - 1 {
                lines.append(current + "=")
                current = ""
                currentLength = 0
            }
            current += token
            currentLength += length
            remaining -= length
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }

    /// Literal for safe printable ASCII; `=XX` for `=`, controls, non-ASCII, and whitespace that ends a line.
    static func token(for byte: UInt8, atEndOfLine: Bool) -> String {
        switch byte {
        case 33...60, 62...126:
            return String(UnicodeScalar(byte))
        case 9 where !atEndOfLine, 32 where !atEndOfLine:
            return String(UnicodeScalar(byte))
        default:
            return "=" + hex(byte)
        }
    }

    /// Upper-case hex is mandated by RFC 2045 §6.7 rule 1.
    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
