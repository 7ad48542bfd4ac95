import Foundation

/// RFC 5322 / RFC 2047 header-field building blocks, kept apart from `MIMEEncoder` so each rule is testable alone.
package enum HeaderEncoding {
    /// Target physical line length; RFC 2047 §2 caps lines holding encoded-words at 76.
    static let preferredLineLength = 76
    /// Longest encoded-word RFC 2047 §2 allows.
    static let maxEncodedWordLength = 75
    /// Whitespace-free runs longer than this could not be folded under the 998-octet limit, so they get encoded-words.
    static let maxAtomLength = 900
    /// `=?UTF-8?B?` plus `?=`.
    static let encodedWordOverhead = 12
    /// RFC 5322 `atext` specials that may appear unquoted in a display name.
    static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    /// Splits `text` into `=?UTF-8?B?...?=` words of at most 75 characters, cutting only between Unicode scalars.
    /// The first word may be given a smaller budget so it fits after the field name on the first line.
    package static func encodedWords(_ text: String, firstWordLength: Int = maxEncodedWordLength) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        var limit = maxPayloadBytes(forWordLength: firstWordLength)
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if !chunk.isEmpty, chunk.count + bytes.count > limit {
                words.append(encodedWord(chunk))
                chunk = []
                limit = maxPayloadBytes(forWordLength: maxEncodedWordLength)
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append(encodedWord(chunk))
        }
        return words
    }

    /// Base64 emits 4 characters per 3 bytes, so the byte budget is the largest multiple of 3 that fits.
    static func maxPayloadBytes(forWordLength length: Int) -> Int {
        let base64Characters = max(length - encodedWordOverhead, 4)
        return max(base64Characters / 4 * 3, 3)
    }

    /// Base64 rather than Q encoding: its length is predictable, which makes the 75-character split exact.
    static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    /// True when a value cannot travel as plain ASCII text: non-ASCII, controls, text that looks like an
    /// encoded-word, or a run too long to fold.
    static func needsEncodedWords(_ value: String) -> Bool {
        if value.contains("=?") { return true }
        for scalar in value.unicodeScalars where scalar.value > 126 || (scalar.value < 32 && scalar != "\t") {
            return true
        }
        return value.split(separator: " ").contains { $0.utf8.count > maxAtomLength }
    }

    /// An unstructured value (Subject, extra fields): plain when safe, otherwise encoded-words separated by spaces.
    static func unstructured(_ value: String, fieldName: String) -> String {
        guard needsEncodedWords(value) else { return value }
        let firstLength = min(maxEncodedWordLength, preferredLineLength - fieldName.utf8.count - 2)
        return encodedWords(value, firstWordLength: firstLength).joined(separator: " ")
    }

    /// A display name as an RFC 5322 phrase: atoms as-is, ASCII with specials quoted, anything else encoded-words.
    package static func phrase(_ name: String) -> String {
        if needsEncodedWords(name) {
            return encodedWords(name).joined(separator: " ")
        }
        let isAtoms = name.unicodeScalars.allSatisfy { scalar in
            scalar == " " || isASCIIAlphanumeric(scalar) || atextSymbols.contains(scalar)
        }
        if isAtoms, !name.hasPrefix(" "), !name.hasSuffix(" "), !name.contains("  ") {
            return name
        }
        var quoted = "\""
        for scalar in name.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }

    /// `Character.isLetter` would accept non-ASCII letters, which must not appear unencoded.
    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// `Name <addr>` when there is a display name, the bare address otherwise.
    package static func mailbox(_ address: MailAddress) -> String {
        let addr = sanitized(address.address)
        guard let name = address.name.map(sanitized), !name.isEmpty else { return addr }
        return "\(phrase(name)) <\(addr)>"
    }

    /// Defence in depth for the non-throwing encoder: callers validate first, but a stray CR/LF must never
    /// reach the wire where it could start a new header.
    static func sanitized(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.map { ["\r", "\n", "\0"].contains($0) ? " " : $0 }))
    }

    /// Folds `name: value` at existing spaces so lines stay near 76 characters (and far below 998).
    package static func fold(name: String, value: String) -> String {
        let tokens = value.split(separator: " ", omittingEmptySubsequences: false)
        var lines: [String] = []
        var line = name + ":"
        for (index, token) in tokens.enumerated() {
            let fits = line.utf8.count + 1 + token.utf8.count <= preferredLineLength
            // Never fold before an empty token: that would leave a whitespace-only line.
            if index == 0 || fits || token.isEmpty {
                line += " " + token
            } else {
                lines.append(line)
                line = " " + token
            }
        }
        lines.append(line)
        return lines.joined(separator: "\r\n")
    }
}
