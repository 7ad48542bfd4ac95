/// The one form of a request path the gateway matches, checks and forwards, so that it judges the same path the
/// router and the upstream will serve: repeated and trailing slashes collapse (the router ignores empty
/// segments), and dot segments or encoded slashes, dots and backslashes are refused outright rather than
/// interpreted differently by the next hop.
package enum RequestPath {
    /// The normal form of `path` (without its query), or `nil` when it must be refused.
    package static func normalize(_ path: Substring) -> String? {
        guard path.hasPrefix("/") else { return nil }
        // Most paths are already in normal form: one pass over the bytes says so without building a copy.
        if isPlain(path.utf8) { return String(path) }
        var result = ""
        result.reserveCapacity(path.utf8.count)
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." || segment == ".." { return nil }
            if segment.contains("%") {
                let lower = segment.lowercased()
                if lower.contains("%2f") || lower.contains("%2e") || lower.contains("%5c") || lower.contains("%00") {
                    return nil
                }
            }
            if segment.contains("\\") { return nil }
            result += "/"
            result += segment
        }
        return result.isEmpty ? "/" : result
    }

    /// No empty or dot segment, no trailing slash (except the root), no `%` or backslash.
    static func isPlain(_ bytes: Substring.UTF8View) -> Bool {
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        var count = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "\\"): return false
            case UInt8(ascii: "/"):
                // "//", "/./" or "/../" (a "." segment ends where the next slash starts).
                if previous == UInt8(ascii: "/") { return false }
                if previous == UInt8(ascii: "."),
                    beforePrevious == UInt8(ascii: "/") || beforePrevious == UInt8(ascii: ".")
                {
                    return false
                }
            default: break
            }
            beforePrevious = previous
            previous = byte
            count += 1
        }
        if previous == UInt8(ascii: "/") && count > 1 { return false }
        // A final "." or ".." segment.
        if previous == UInt8(ascii: "."), beforePrevious == UInt8(ascii: "/") || beforePrevious == UInt8(ascii: ".") {
            return false
        }
        return true
    }
}
