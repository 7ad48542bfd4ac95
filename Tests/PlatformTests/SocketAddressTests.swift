import NIOCore
import Testing

@testable import Platform

@Suite struct SocketAddressTests {
    /// The hand-written IPv4 form is NIO's `ipAddress`; IPv6 is NIO's own.
    @Test(arguments: [
        "127.0.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.1", "10.200.3.45", "::1", "2001:db8::8a2e:370:7334",
    ])
    func formatsAsNIODoes(_ address: String) throws {
        let socket = try SocketAddress(ipAddress: address, port: 443)
        #expect(socket.formattedIPAddress == socket.ipAddress)
        #expect(socket.formattedIPAddress == address)
    }
}
