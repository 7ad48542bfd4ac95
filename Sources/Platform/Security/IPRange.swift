#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address or CIDR range (`203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`), as bytes.
package struct IPRange: Sendable, Hashable, CustomStringConvertible {
    package let bytes: [UInt8]
    package let prefix: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let bytes = Self.parse(String(first)) else { return nil }
        let bits = bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...bits).contains(value) else { return nil }
            prefix = value
        }
        self.bytes = Self.masked(bytes, prefix: prefix)
        self.prefix = prefix
    }

    /// Whether `address` (one address, in text) is in the range; an IPv4-mapped IPv6 address counts as IPv4.
    package func contains(_ address: String) -> Bool {
        guard var other = Self.parse(address) else { return false }
        if other.count == 16, bytes.count == 4, other[0..<10].allSatisfy({ $0 == 0 }), other[10] == 0xFF,
            other[11] == 0xFF
        {
            other = Array(other[12...])
        }
        guard other.count == bytes.count else { return false }
        return Self.masked(other, prefix: prefix) == bytes
    }

    package var isSingleAddress: Bool { prefix == bytes.count * 8 }

    package var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let text = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
        }
        return (text ?? "?") + (isSingleAddress ? "" : "/\(prefix)")
    }

    package static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func masked(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsBefore = index * 8
            if prefix >= bitsBefore + 8 { return byte }
            if prefix <= bitsBefore { return 0 }
            return byte & ~UInt8(0xFF >> (prefix - bitsBefore))
        }
    }
}
