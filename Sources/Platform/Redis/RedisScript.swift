import Crypto

/// A Lua script addressed by its SHA-1, so callers send `EVALSHA` and the body only when the server lacks it.
package struct RedisScript: Sendable, Hashable {
    package let source: String
    /// Lowercase hex SHA-1 of `source`, the same digest `SCRIPT LOAD` answers.
    package let sha1: String

    package init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
