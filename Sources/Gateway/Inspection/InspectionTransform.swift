/// A normalisation applied to a value before a rule matches it, so encoded or obfuscated attacks look like
/// plain ones. Every transform returns its input unchanged (no allocation) when there is nothing to do, which
/// keeps the common benign value cheap.
package enum InspectionTransform: String, Sendable, Hashable, Codable {
    /// Percent-decodes up to twice (double encoding such as `%253C`); `+` is left alone.
    case urlDecode
    /// Lower-cases the value.
    case lowercase
    /// Decodes HTML character references: `&lt;`-style names browsers know and `&#60;`/`&#x3c;` numbers.
    case htmlEntityDecode
    /// Replaces SQL comments with a space (keeping MySQL `/*!...*/` contents, which MySQL executes) and
    /// collapses whitespace runs to one space, so `UNION/**/SELECT` reads `union select`.
    case compactSQL

    /// Applies the transform.
    package func apply(to value: String) -> String {
        switch self {
        case .urlDecode: TextNormalization.percentDecoded(TextNormalization.percentDecoded(value))
        case .lowercase: TextNormalization.lowercased(value)
        case .htmlEntityDecode: TextNormalization.htmlEntityDecoded(value)
        case .compactSQL: TextNormalization.sqlCompacted(value)
        }
    }
}

/// Byte-level text normalisations behind ``InspectionTransform``.
enum TextNormalization {
    /// Decodes `%XX` once; with `plusAsSpace`, `+` becomes a space (form encoding, for query strings).
    static func percentDecoded(_ value: String, plusAsSpace: Bool = false) -> String {
        let needsWork = ASCIISearch.withBytes(of: value) { bytes in
            bytes.contains { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }
        }
        guard needsWork else { return value }
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Lower-cases, skipping the allocation when the value has no upper-case ASCII and no non-ASCII bytes.
    static func lowercased(_ value: String) -> String {
        let needsWork = ASCIISearch.withBytes(of: value) { bytes in
            bytes.contains { $0 >= 0x80 || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) }
        }
        return needsWork ? value.lowercased() : value
    }

    /// Decodes character references the way a browser would in text and attribute values.
    static func htmlEntityDecoded(_ value: String) -> String {
        guard ASCIISearch.withBytes(of: value, { $0.contains(UInt8(ascii: "&")) }) else { return value }
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "&"), let (decoded, length) = characterReference(bytes, at: index) {
                output.append(contentsOf: decoded)
                index += length
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Strips SQL comments and collapses whitespace.
    static func sqlCompacted(_ value: String) -> String {
        let needsWork = ASCIISearch.withBytes(of: value) { bytes in
            var previous: UInt8 = 0
            for byte in bytes {
                if isWhitespace(byte) && (byte != UInt8(ascii: " ") || previous == UInt8(ascii: " ")) { return true }
                if (previous == UInt8(ascii: "/") && byte == UInt8(ascii: "*"))
                    || (previous == UInt8(ascii: "*") && byte == UInt8(ascii: "/"))
                {
                    return true
                }
                previous = byte
            }
            return false
        }
        guard needsWork else { return value }
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        func appendSpace() {
            if output.last != UInt8(ascii: " ") { output.append(UInt8(ascii: " ")) }
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8 = index + 1 < bytes.count ? bytes[index + 1] : 0
            if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                index += 2
                if index < bytes.count && bytes[index] == UInt8(ascii: "!") {
                    // MySQL executes versioned comments: keep their content, drop the marker and version.
                    index += 1
                    while index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
                    {
                        index += 1
                    }
                } else {
                    while index + 1 < bytes.count
                        && !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/"))
                    {
                        index += 1
                    }
                    index = min(index + 2, bytes.count)
                }
                appendSpace()
            } else if byte == UInt8(ascii: "*") && next == UInt8(ascii: "/") {
                index += 2
                appendSpace()
            } else if isWhitespace(byte) {
                index += 1
                appendSpace()
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Named references that matter for markup and script injection; others are left as they are.
    private static let namedReferences: [String: String] = [
        "lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'", "nbsp": " ", "colon": ":", "semi": ";",
        "lpar": "(", "rpar": ")", "sol": "/", "bsol": "\\", "equals": "=", "comma": ",", "period": ".",
        "excl": "!", "num": "#", "tab": "\t", "newline": "\n", "grave": "`", "lsqb": "[", "rsqb": "]",
    ]

    /// Decodes the reference starting at `start` (an `&`), returning its UTF-8 and the bytes it spans.
    private static func characterReference(_ bytes: [UInt8], at start: Int) -> ([UInt8], Int)? {
        var index = start + 1
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "#") {
            index += 1
            let hex = index < bytes.count && (bytes[index] | 0x20) == UInt8(ascii: "x")
            if hex { index += 1 }
            var scalarValue: UInt32 = 0
            let digitsStart = index
            while index < bytes.count, index - digitsStart < 8 {
                let byte = bytes[index]
                if hex, let digit = hexValue(byte) {
                    scalarValue = scalarValue * 16 + UInt32(digit)
                } else if !hex, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    scalarValue = scalarValue * 10 + UInt32(byte - UInt8(ascii: "0"))
                } else {
                    break
                }
                index += 1
            }
            guard index > digitsStart else { return nil }
            if index < bytes.count && bytes[index] == UInt8(ascii: ";") { index += 1 }
            let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
            return (Array(String(Character(scalar)).utf8), index - start)
        }
        let nameStart = index
        while index < bytes.count, index - nameStart < 10,
            (bytes[index] | 0x20) >= UInt8(ascii: "a"), (bytes[index] | 0x20) <= UInt8(ascii: "z")
        {
            index += 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ";"), index > nameStart else { return nil }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
        guard let replacement = namedReferences[name] else { return nil }
        return (Array(replacement.utf8), index + 1 - start)
    }
}
