import Foundation
import NIOSSL

/// Where and how to reach one Redis server; built from `redis_url` (`InopsioConfiguration.redisURL`) and then tuned.
package struct RedisConfiguration: Sendable {
    /// Which protocol the connection setup asks for first.
    package enum ProtocolVersion: Int, Sendable {
        /// RESP2 only: `AUTH` and `SELECT`, no `HELLO` (for servers or proxies that mishandle it).
        case resp2 = 2
        /// `HELLO 3`, falling back to RESP2 when the server answers it with an error (Redis before 6).
        case resp3 = 3
    }

    package var host: String
    package var port: Int
    /// ACL user; `nil` with a password means the `default` user (`AUTH <password>`).
    package var username: String?
    package var password: String?
    package var database: Int
    /// `nil` for plain TCP; set for `rediss://`.
    package var tls: TLSConfiguration?
    package var protocolVersion: ProtocolVersion = .resp3
    package var connectTimeout: Duration = .seconds(1)
    /// How long a command may wait for its reply (including time queued behind earlier pipelined commands).
    package var commandTimeout: Duration = .seconds(2)
    /// Maximum number of command connections; each pipelines many commands at once.
    package var poolSize = 8
    /// Pause after the first failed connect on a pool slot; doubles on each further failure.
    package var reconnectBackoffInitial: Duration = .milliseconds(100)
    package var reconnectBackoffMaximum: Duration = .seconds(2)
    /// Sent as `CLIENT SETNAME` during setup (via `HELLO ... SETNAME` on RESP3) so `CLIENT LIST` shows who we are.
    package var clientName: String? = nil

    package init(
        host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0,
        tls: TLSConfiguration? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://...` (TLS with the system's trust roots).
    package init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidConfiguration("not a URL")
        }
        guard scheme == "redis" || scheme == "rediss" else {
            throw .invalidConfiguration("unsupported scheme \(scheme) (expected redis or rediss)")
        }
        guard let rawHost = components.percentEncodedHost, let host = rawHost.removingPercentEncoding, !host.isEmpty
        else { throw .invalidConfiguration("missing host") }
        let port = components.port ?? 6379
        guard (1...65535).contains(port) else { throw .invalidConfiguration("invalid port \(port)") }
        let path = components.percentEncodedPath
        var database = 0
        if path.count > 1 {
            guard let number = Int(path.dropFirst()), number >= 0 else {
                throw .invalidConfiguration("the path must be a database number, not \(path)")
            }
            database = number
        }
        self.init(
            host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port,
            username: try Self.decoded(components.percentEncodedUser),
            password: try Self.decoded(components.percentEncodedPassword), database: database,
            tls: scheme == "rediss" ? .makeClientConfiguration() : nil)
        if username?.isEmpty == true { username = nil }
        if let text = components.queryItems?.first(where: { $0.name == "timeout_ms" })?.value {
            guard let milliseconds = Int(text), (1...600_000).contains(milliseconds) else {
                throw .invalidConfiguration("timeout_ms must be a number of milliseconds from 1 to 600000")
            }
            commandTimeout = .milliseconds(milliseconds)
            connectTimeout = .milliseconds(milliseconds)
            timeoutFromURL = true
        }
    }

    /// Whether the URL set the timeouts (`?timeout_ms=`); users of the client then keep them.
    package private(set) var timeoutFromURL = false

    /// Trusts only the CAs in a PEM file (a private CA, or the throwaway one a test generates); enables TLS.
    package mutating func trustCertificateAuthorities(pemFile path: String) {
        var tls = self.tls ?? .makeClientConfiguration()
        tls.trustRoots = .file(path)
        self.tls = tls
    }

    private static func decoded(_ part: String?) throws(RedisError) -> String? {
        guard let part else { return nil }
        guard let decoded = part.removingPercentEncoding else {
            throw .invalidConfiguration("invalid percent-encoding in the credentials")
        }
        return decoded
    }
}
