// bcrypt password hashing (OpenBSD `$2b$` semantics), pure Swift.
//
// Compatible with OpenBSD bcrypt(3), crypt_blowfish and Python's `bcrypt` package
// for `$2a$`, `$2b$` and `$2y$` hashes: the password is taken as UTF-8 bytes with a
// NUL terminator appended and truncated to 72 bytes; salt and checksum use bcrypt's
// own base64 alphabet (`./A-Za-z0-9`, no padding): 22 characters encode the 16-byte
// salt, 31 characters encode the first 23 bytes of the 24-byte ciphertext.
//
// Layout of a hash: `$2b$` + two-digit cost + `$` + 22-char salt + 31-char checksum
// (60 ASCII characters in total).

import Foundation

/// Errors thrown by ``BCrypt``.
package enum BCryptError: Error, Equatable {
    /// The string is not a well-formed `$2a$` / `$2b$` / `$2y$` bcrypt hash.
    case malformedHash
    /// The cost factor is outside `4...31`.
    case invalidCost
}

/// bcrypt password hashing and verification.
package enum BCrypt {
    /// Valid cost factors (log2 of the number of key-expansion rounds).
    package static let costRange: ClosedRange<Int> = 4...31

    /// true when `password` matches a `$2a$`, `$2b$` or `$2y$` hash; false for a
    /// non-matching password; throws `BCryptError.malformedHash` for a string that
    /// is not a bcrypt hash.
    package static func verify(_ password: String, against hash: String) throws -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == hashLength else { throw BCryptError.malformedHash }
        let setting = try parseSetting(bytes[0..<settingLength])
        let expected = bytes[settingLength...]
        guard expected.allSatisfy({ decodeChar($0) != nil }) else { throw BCryptError.malformedHash }
        let actual = encodeBase64(
            eksBlowfish(password: password, salt: setting.salt, cost: setting.cost)[0..<checksumBytes])
        // Constant-time comparison over the 31 checksum characters.
        var difference: UInt8 = 0
        for (a, b) in zip(actual, expected) {
            difference |= a ^ b
        }
        return difference == 0 && actual.count == expected.count
    }

    /// A new hash with the given cost (4...31) and 16 random bytes of salt
    /// (SystemRandomNumberGenerator), `$2b$` prefix.
    package static func hash(_ password: String, cost: Int) throws -> String {
        guard costRange.contains(cost) else { throw BCryptError.invalidCost }
        var generator = SystemRandomNumberGenerator()
        var salt = [UInt8]()
        salt.reserveCapacity(saltBytes)
        for _ in 0..<(saltBytes / 8) {
            let word: UInt64 = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                salt.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return makeHash(password: password, minor: UInt8(ascii: "b"), cost: cost, salt: salt)
    }

    /// The cost factor of a hash, or nil if malformed.
    package static func cost(of hash: String) -> Int? {
        let bytes = Array(hash.utf8)
        guard bytes.count == hashLength,
            bytes[settingLength...].allSatisfy({ decodeChar($0) != nil }),
            let setting = try? parseSetting(bytes[0..<settingLength])
        else { return nil }
        return setting.cost
    }

    /// Hashes `password` with the prefix, cost and salt of `setting` (the first 29
    /// characters of a hash, e.g. `$2b$12$` + 22 salt characters); like Python's
    /// `bcrypt.hashpw(password, salt)`. Deterministic; used by tests.
    static func hash(_ password: String, setting: String) throws -> String {
        let bytes = Array(setting.utf8)
        guard bytes.count == settingLength else { throw BCryptError.malformedHash }
        let parsed = try parseSetting(bytes[...])
        return makeHash(password: password, minor: parsed.minor, cost: parsed.cost, salt: parsed.salt)
    }

    // MARK: - Format

    private static let hashLength = 60
    private static let settingLength = 29  // "$2b$NN$" + 22 salt characters
    private static let saltBytes = 16
    private static let checksumBytes = 23

    private struct Setting {
        var minor: UInt8
        var cost: Int
        var salt: [UInt8]
    }

    /// Parses `$2x$NN$` + 22 salt characters.
    private static func parseSetting(_ bytes: ArraySlice<UInt8>) throws(BCryptError) -> Setting {
        let b = Array(bytes)
        guard b.count == settingLength,
            b[0] == UInt8(ascii: "$"), b[1] == UInt8(ascii: "2"),
            b[2] == UInt8(ascii: "a") || b[2] == UInt8(ascii: "b") || b[2] == UInt8(ascii: "y"),
            b[3] == UInt8(ascii: "$"), b[6] == UInt8(ascii: "$")
        else { throw .malformedHash }
        let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        guard (zero...nine).contains(b[4]), (zero...nine).contains(b[5]) else { throw .malformedHash }
        let cost = Int(b[4] - zero) * 10 + Int(b[5] - zero)
        guard costRange.contains(cost) else { throw .malformedHash }
        guard let salt = decodeBase64(b[7..<settingLength], byteCount: saltBytes) else { throw .malformedHash }
        return Setting(minor: b[2], cost: cost, salt: salt)
    }

    private static func makeHash(password: String, minor: UInt8, cost: Int, salt: [UInt8]) -> String {
        let digest = eksBlowfish(password: password, salt: salt, cost: cost)
        var out: [UInt8] = [
            UInt8(ascii: "$"), UInt8(ascii: "2"), minor, UInt8(ascii: "$"),
            UInt8(ascii: "0") + UInt8(cost / 10), UInt8(ascii: "0") + UInt8(cost % 10),
            UInt8(ascii: "$"),
        ]
        out.reserveCapacity(hashLength)
        out += encodeBase64(salt[...])
        out += encodeBase64(digest[0..<checksumBytes])
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - bcrypt base64 (`./A-Za-z0-9`, no padding)

    private static let alphabet: [UInt8] = Array(
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    private static func decodeChar(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "."): 0
        case UInt8(ascii: "/"): 1
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A") + 2
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 28
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 54
        default: nil
        }
    }

    /// Big-endian bit packing, 6 bits per character, no padding.
    private static func encodeBase64(_ data: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((data.count * 8 + 5) / 6)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in data {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int((accumulator >> UInt32(bits)) & 0x3F)])
            }
            accumulator &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 {
            out.append(alphabet[Int((accumulator << UInt32(6 - bits)) & 0x3F)])
        }
        return out
    }

    /// Decodes exactly `byteCount` bytes; nil for a wrong length, a character outside
    /// the alphabet, or non-zero trailing bits (non-canonical encoding).
    private static func decodeBase64(_ chars: ArraySlice<UInt8>, byteCount: Int) -> [UInt8]? {
        guard chars.count == (byteCount * 8 + 5) / 6 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in chars {
            guard let value = decodeChar(c) else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard out.count == byteCount, accumulator == 0 else { return nil }
        return out
    }

    // MARK: - Eksblowfish

    /// Number of 32-bit words in the Blowfish state: P-array (18) + 4 S-boxes (256 each).
    private static let stateWords = 18 + 4 * 256

    /// "OrpheanBeholderScryDoubt" as six big-endian words.
    private static let magic: [UInt32] = [0x4F72_7068, 0x6561_6E42, 0x6568_6F6C, 0x6465_7253, 0x6372_7944, 0x6F75_6274]

    /// The expensive key setup followed by 64 encryptions of the magic string;
    /// returns the 24-byte ciphertext (bcrypt encodes the first 23 bytes).
    private static func eksBlowfish(password: String, salt: [UInt8], cost: Int) -> [UInt8] {
        // Key: UTF-8 bytes + NUL, at most 72 bytes, repeated cyclically to 18 words.
        var key = Array(password.utf8)
        key.append(0)
        if key.count > 72 { key.removeSubrange(72...) }
        let keyWords = streamWords(key, count: 18)
        let saltWords = streamWords(salt, count: 4)

        var state = initialState
        var data = magic
        let rounds = 1 << cost
        state.withUnsafeMutableBufferPointer { stateBuffer in
            keyWords.withUnsafeBufferPointer { keyBuffer in
                saltWords.withUnsafeBufferPointer { saltBuffer in
                    data.withUnsafeMutableBufferPointer { dataBuffer in
                        guard let st = stateBuffer.baseAddress, let k = keyBuffer.baseAddress,
                            let s = saltBuffer.baseAddress, let d = dataBuffer.baseAddress
                        else { return }
                        expandState(st, key: k, salt: s)
                        for _ in 0..<rounds {
                            expand0State(st, key: k, count: 18)
                            expand0State(st, key: s, count: 4)
                        }
                        for _ in 0..<64 {
                            for i in stride(from: 0, to: 6, by: 2) {
                                encipher(st, &d[i], &d[i + 1])
                            }
                        }
                    }
                }
            }
        }

        var out = [UInt8]()
        out.reserveCapacity(24)
        for word in data {
            out.append(UInt8(truncatingIfNeeded: word >> 24))
            out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8))
            out.append(UInt8(truncatingIfNeeded: word))
        }
        return out
    }

    /// Reads `count` big-endian words from `bytes`, wrapping around cyclically.
    private static func streamWords(_ bytes: [UInt8], count: Int) -> [UInt32] {
        var words = [UInt32]()
        words.reserveCapacity(count)
        var j = 0
        for _ in 0..<count {
            var word: UInt32 = 0
            for _ in 0..<4 {
                word = (word << 8) | UInt32(bytes[j])
                j += 1
                if j == bytes.count { j = 0 }
            }
            words.append(word)
        }
        return words
    }

    /// Blowfish_expandstate: mixes the key into P, then re-derives P and the
    /// S-boxes by encrypting a chain that is XORed with the (4-word, cyclic) salt.
    @inline(__always)
    private static func expandState(
        _ st: UnsafeMutablePointer<UInt32>, key: UnsafePointer<UInt32>,
        salt: UnsafePointer<UInt32>
    ) {
        for i in 0..<18 {
            st[i] ^= key[i]
        }
        var l: UInt32 = 0
        var r: UInt32 = 0
        var j = 0
        for i in stride(from: 0, to: stateWords, by: 2) {
            l ^= salt[j]
            r ^= salt[j + 1]
            j = (j + 2) & 3
            encipher(st, &l, &r)
            st[i] = l
            st[i + 1] = r
        }
    }

    /// Blowfish_expand0state: mixes `count` key words (cyclic) into P, then
    /// re-derives P and the S-boxes by encrypting a zero-initialised chain.
    @inline(__always)
    private static func expand0State(_ st: UnsafeMutablePointer<UInt32>, key: UnsafePointer<UInt32>, count: Int) {
        var j = 0
        for i in 0..<18 {
            st[i] ^= key[j]
            j += 1
            if j == count { j = 0 }
        }
        var l: UInt32 = 0
        var r: UInt32 = 0
        for i in stride(from: 0, to: stateWords, by: 2) {
            encipher(st, &l, &r)
            st[i] = l
            st[i + 1] = r
        }
    }

    /// One 16-round Blowfish block encryption with state `st` (P at 0..<18, S-boxes after).
    @inline(__always)
    private static func encipher(_ st: UnsafeMutablePointer<UInt32>, _ xl: inout UInt32, _ xr: inout UInt32) {
        let s0 = st + 18
        let s1 = st + 274
        let s2 = st + 530
        let s3 = st + 786
        @inline(__always)
        func f(_ x: UInt32) -> UInt32 {
            ((s0[Int(x >> 24)] &+ s1[Int((x >> 16) & 0xFF)]) ^ s2[Int((x >> 8) & 0xFF)]) &+ s3[Int(x & 0xFF)]
        }
        var l = xl ^ st[0]
        var r = xr
        var i = 1
        while i < 17 {
            r ^= f(l) ^ st[i]
            l ^= f(r) ^ st[i + 1]
            i += 2
        }
        xl = r ^ st[17]
        xr = l
    }
}
