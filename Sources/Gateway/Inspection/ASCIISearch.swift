/// A prefilter or literal pattern, ready for ``ASCIISearch``: lower-cased UTF-8 plus the set of its bytes.
struct Needle: Sendable {
    let bytes: [UInt8]
    let byteSet: ByteSet

    init(_ text: String) {
        bytes = ASCIISearch.lowercasedBytes(text)
        byteSet = ByteSet(bytes)
    }

    /// Whether the needle occurs in the text; the byte-set test rejects most values without a scan.
    func occurs(in text: String, bytes textBytes: ByteSet) -> Bool {
        textBytes.isSuperset(of: byteSet) && ASCIISearch.contains(text, bytes)
    }
}

/// The set of (ASCII-lower-cased) byte values in a text. A needle with a byte the text lacks cannot occur in
/// it, so one pass over a value lets most of the rules' literals be rejected with four AND operations.
struct ByteSet: Sendable, Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            let lowered = ASCIISearch.lower(byte)
            let bit = UInt64(1) << UInt64(lowered & 63)
            switch lowered >> 6 {
            case 0: words.0 |= bit
            case 1: words.1 |= bit
            case 2: words.2 |= bit
            default: words.3 |= bit
            }
        }
    }

    /// The bytes of a text, ASCII letters lower-cased.
    init(of text: String) {
        self = ASCIISearch.withBytes(of: text) { ByteSet($0) }
    }

    func isSuperset(of other: ByteSet) -> Bool {
        words.0 & other.words.0 == other.words.0 && words.1 & other.words.1 == other.words.1
            && words.2 & other.words.2 == other.words.2 && words.3 & other.words.3 == other.words.3
    }

    static func == (lhs: ByteSet, rhs: ByteSet) -> Bool {
        lhs.isSuperset(of: rhs) && rhs.isSuperset(of: lhs)
    }
}

/// ASCII-case-insensitive substring search over UTF-8, without allocating.
enum ASCIISearch {
    /// The needle form the search expects: UTF-8 with ASCII letters lower-cased.
    static func lowercasedBytes(_ text: String) -> [UInt8] {
        text.utf8.map(lower)
    }

    /// Runs `body` over the text's UTF-8 as one contiguous buffer: much faster to scan than `String.UTF8View`.
    static func withBytes<Result>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        var text = text
        return text.withUTF8(body)
    }

    /// Whether `haystack` contains `needle` (already lower-cased), ignoring ASCII case.
    static func contains(_ haystack: String, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            var start = 0
            let last = bytes.count - needle.count
            while start <= last {
                if lower(bytes[start]) == first {
                    var offset = 1
                    while offset < needle.count && lower(bytes[start + offset]) == needle[offset] { offset += 1 }
                    if offset == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }

    /// Whether `haystack` starts with `needle` (already lower-cased), ignoring ASCII case.
    static func hasPrefix(_ haystack: String, _ needle: [UInt8]) -> Bool {
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            for offset in 0..<needle.count where lower(bytes[offset]) != needle[offset] { return false }
            return true
        }
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}
