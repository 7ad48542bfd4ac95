import Foundation
import NIOCore
import NIOPosix
import Platform

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps outbound requests (webhooks) away from the installation's own networks: loopback, link-local (cloud
/// metadata at 169.254.169.254 among them), private, shared (CGNAT), multicast and unspecified addresses, unless
/// the operator allows a network (`webhook_allowed_networks`). The host is resolved once, every address checked,
/// and the request is then pinned to the checked address, so a DNS answer that changes between check and
/// connect (rebinding) cannot redirect it.
package struct OutboundGuard: Sendable {
    package static let blocked: [IPRange] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
        "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b::/96",
    ].compactMap(IPRange.init)

    let allowed: [IPRange]

    package init(allowed: [IPRange]) {
        self.allowed = allowed
    }

    package enum Refusal: Error, Equatable, CustomStringConvertible {
        case invalidURL(String)
        case blockedAddress(host: String, address: String)
        case unresolvable(String)

        package var description: String {
            switch self {
            case .invalidURL(let reason): "invalid URL: \(reason)"
            case .blockedAddress(let host, let address):
                "\(host) resolves to \(address), a loopback, link-local or private address"
            case .unresolvable(let host): "\(host) does not resolve"
            }
        }
    }

    /// Checks the URL's form: http or https, a host, no credentials, at most 2,000 characters.
    package static func checkForm(_ text: String) throws(Refusal) -> URL {
        guard text.count <= 2_000, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty
        else { throw .invalidURL("an absolute http or https URL") }
        guard url.user == nil, url.password == nil else { throw .invalidURL("credentials do not belong in the URL") }
        return url
    }

    func isAllowed(_ text: String) -> Bool {
        // A scoped IPv6 address (`fe80::1%eth0`) is judged without its zone; anything unparsable is refused.
        let address = String(text.split(separator: "%", maxSplits: 1).first ?? "")
        guard IPRange.parse(address) != nil else { return false }
        if allowed.contains(where: { $0.contains(address) }) { return true }
        return !Self.blocked.contains { $0.contains(address) }
    }

    /// The address to connect to for `url`'s host: the first resolved address, after checking them all.
    package func vet(_ url: URL) async throws(Refusal) -> String {
        guard let rawHost = url.host else { throw .invalidURL("no host") }
        let host = rawHost.hasPrefix("[") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let addresses: [String]
        if IPRange.parse(host) != nil {
            addresses = [host]
        } else {
            addresses = await Self.resolve(host)
        }
        guard let first = addresses.first else { throw .unresolvable(host) }
        for address in addresses where !isAllowed(address) {
            throw .blockedAddress(host: host, address: address)
        }
        return first
    }

    /// getaddrinfo on NIO's blocking-work pool.
    static func resolve(_ host: String) async -> [String] {
        (try? await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &result) == 0, let list = result else { return [String]() }
            defer { freeaddrinfo(list) }
            var addresses: [String] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = list
            while let entry = cursor {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(
                    entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                    NI_NUMERICHOST) == 0
                {
                    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if !addresses.contains(text) { addresses.append(text) }
                }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }) ?? []
    }
}
