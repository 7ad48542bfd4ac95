import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension SocketAddress {
    /// `ipAddress`, with IPv4 addresses written by hand: NIO formats them with `inet_ntop`, which goes through
    /// `sprintf` (about 1 % of the server's time listing CRM records, where each request asks twice). IPv6 and
    /// Unix-domain addresses go through NIO.
    package var formattedIPAddress: String? {
        if case .v4(let v4) = self {
            let raw = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return "\(raw >> 24).\((raw >> 16) & 0xFF).\((raw >> 8) & 0xFF).\(raw & 0xFF)"
        }
        return ipAddress
    }
}
