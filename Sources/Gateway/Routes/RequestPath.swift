/// The one form of a request path the gateway matches, checks and forwards, so that it judges the same path the
/// router and the upstream will serve: repeated and trailing slashes collapse (the router ignores empty
/// segments), and dot segments or encoded slashes, dots and backslashes are refused outright rather than
/// interpreted differently by the next hop.
package enum RequestPath {
    /// The normal form of `path` (without its query), or `nil` when it must be refused.
    package static func normalize(_ path: Substring) -> String? {
        guard path.hasPrefix("/") else { return nil }
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
}
