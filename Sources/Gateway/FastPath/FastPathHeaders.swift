import NIOCore
import NIOHTTP1
import Platform
import Synchronization

/// Header work of the fast path on HTTP/1 headers, without lower-casing every name (an allocation per field).
enum FastPathHeaders {
    /// The hop-by-hop names (`UpstreamProxy.hopByHop`) plus those the message's `Connection` header names.
    static func hopByHopNames(_ headers: HTTPHeaders) -> [String] {
        var names = fixedHopByHop
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let name = token.trimmingCharacters(in: .whitespaces).lowercased()
                if !name.isEmpty && name != "close" && name != "keep-alive" { names.append(name) }
            }
        }
        return names
    }

    static let fixedHopByHop = Array(UpstreamProxy.hopByHop)

    static func contains(_ names: [String], _ name: String) -> Bool {
        names.contains { equalIgnoringCase($0, name) }
    }

    /// ASCII case-insensitive equality (`lower` is lower case already).
    static func equalIgnoringCase(_ lower: String, _ name: String) -> Bool {
        guard lower.utf8.count == name.utf8.count else { return false }
        for (a, b) in zip(lower.utf8, name.utf8) where a != b && a != (b | 0x20) { return false }
        return true
    }

    /// Whether `text` contains `lower` (lower case ASCII) in any case, without Foundation's locale-aware search.
    static func containsIgnoringCase(_ text: String, _ lower: String) -> Bool {
        let needle = Array(lower.utf8)
        guard let first = needle.first else { return true }
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            var index = 0
            while index <= bytes.count - needle.count {
                if bytes[index] | 0x20 == first {
                    var matched = true
                    for offset in 1..<needle.count where bytes[index + offset] | 0x20 != needle[offset] {
                        matched = false
                        break
                    }
                    if matched { return true }
                }
                index += 1
            }
            return false
        }
    }

    /// An upgrade request: an `Upgrade` header and `Connection` naming it.
    static func isUpgrade(_ headers: HTTPHeaders) -> Bool {
        headers.contains(name: "upgrade") && headers["connection"].contains { containsIgnoringCase($0, "upgrade") }
    }

    /// `X-Forwarded-For`, `-Proto` or `-Host`, in any case: the ones the edge sets itself.
    static func isEdgeForwarded(_ name: String) -> Bool {
        equalIgnoringCase("x-forwarded-for", name) || equalIgnoringCase("x-forwarded-proto", name)
            || equalIgnoringCase("x-forwarded-host", name)
    }
}

extension UpstreamProxy {
    /// The request headers an upstream gets from the fast path: the client's minus hop-by-hop ones, `Host` kept,
    /// `X-Forwarded-*` replaced by what the edge saw, the request id and this hop's `traceparent` set (the same
    /// rules as `forwardedHeaders(_:context:tls:)`).
    static func forwardedHeaders(
        _ incoming: HTTPHeaders, clientIP: String?, requestID: String, trace: TraceContext, tls: Bool
    ) -> HTTPHeaders {
        let named = FastPathHeaders.hopByHopNames(incoming)
        var headers = HTTPHeaders()
        headers.reserveCapacity(incoming.count + 5)
        var host: String?
        for (name, value) in incoming {
            if FastPathHeaders.contains(named, name) || FastPathHeaders.isEdgeForwarded(name) { continue }
            if FastPathHeaders.equalIgnoringCase("x-request-id", name)
                || FastPathHeaders.equalIgnoringCase("traceparent", name)
            {
                continue
            }
            if host == nil, FastPathHeaders.equalIgnoringCase("host", name) { host = value }
            headers.add(name: name, value: value)
        }
        if let clientIP { headers.add(name: "X-Forwarded-For", value: clientIP) }
        headers.add(name: "X-Forwarded-Proto", value: tls ? "https" : "http")
        if let host { headers.add(name: "X-Forwarded-Host", value: host) }
        headers.add(name: "X-Request-ID", value: requestID)
        headers.add(name: "traceparent", value: trace.header)
        return headers
    }
}

/// Request ids for requests the fast path answers, in the form the router's have: 32 hex digits, a random
/// per-process half and a counter (no system call per request).
enum RequestIDs {
    private static let high = hex(UInt64.random(in: .min ... .max))
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    static func next() -> String {
        high + hex(counter.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    static func hex(_ value: UInt64) -> String { Hex.sixteenDigits(value) }
}
