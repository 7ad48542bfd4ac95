import Foundation

/// Matches a request path against a route's path: a prefix (`/api/v1/crm/` matches itself and everything below),
/// or a template whose `{name}` segments each match one non-empty segment and are captured.
package enum PathMatcher: Sendable, Equatable {
    case prefix(String)
    case template([Segment])

    package enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// Parses a template; `nil` when it is not an absolute path or a `{}` segment is malformed.
    package static func template(_ text: String) -> PathMatcher? {
        guard text.hasPrefix("/") else { return nil }
        var segments: [Segment] = []
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if part.hasPrefix("{") {
                let name = part.dropFirst().dropLast()
                guard part.hasSuffix("}"), !name.isEmpty, !name.contains("{"), !name.contains("}") else { return nil }
                segments.append(.parameter(String(name)))
            } else {
                guard !part.contains("{"), !part.contains("}") else { return nil }
                segments.append(.literal(String(part)))
            }
        }
        return .template(segments)
    }

    /// The captured parameters when `path` matches (empty for a prefix), else `nil`.
    package func match(_ path: Substring) -> [String: String]? {
        switch self {
        case .prefix(let prefix):
            // Byte-wise, as URIs compare (RFC 3986, section 6.2.1), and without walking grapheme clusters.
            let bytes = path.utf8
            let prefixBytes = prefix.utf8
            guard bytes.count >= prefixBytes.count, bytes.starts(with: prefixBytes) else { return nil }
            // `/api/v1/crm` must not match `/api/v1/crmx`: a prefix without a trailing slash ends at a boundary.
            if prefixBytes.last != UInt8(ascii: "/"), bytes.count > prefixBytes.count {
                let next = bytes[bytes.index(bytes.startIndex, offsetBy: prefixBytes.count)]
                guard next == UInt8(ascii: "/") || next == UInt8(ascii: "?") else { return nil }
            }
            return [:]
        case .template(let segments):
            var parameters: [String: String] = [:]
            var rest = path.dropFirst()
            for (index, segment) in segments.enumerated() {
                let end = rest.firstIndex(of: "/") ?? rest.endIndex
                let part = rest[rest.startIndex..<end]
                switch segment {
                case .literal(let literal):
                    guard part == literal else { return nil }
                case .parameter(let name):
                    guard !part.isEmpty else { return nil }
                    parameters[name] = String(part)
                }
                let isLast = index == segments.count - 1
                if isLast { return end == rest.endIndex ? parameters : nil }
                guard end < rest.endIndex else { return nil }
                rest = rest[rest.index(after: end)...]
            }
            return rest.isEmpty ? parameters : nil
        }
    }
}
