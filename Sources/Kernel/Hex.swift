/// Lower-case hexadecimal text of bytes (digests), without `String(format:)`'s per-byte formatting.
extension Sequence where Element == UInt8 {
    package var lowercaseHex: String {
        let digits = HexDigits.lowercase
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The lower-case hexadecimal digits as UTF-8 bytes.
enum HexDigits {
    static let lowercase: [UInt8] = Array("0123456789abcdef".utf8)
}
