/// Why a Redis operation failed; callers branch on the case (retry on `connectionClosed`, alert on
/// `authenticationFailed`, treat `server` as the command's own answer).
package enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be made (refused, unreachable, DNS); also what callers get while the pool backs off.
    case connectionRefused(String)
    /// The TCP (and TLS) connection was not established within the connect timeout.
    case connectTimeout
    /// The connection was lost before the reply arrived, so the command may or may not have run.
    case connectionClosed
    /// No reply within the command timeout; the connection was closed because later replies would be misaligned.
    case commandTimeout
    /// The server answered with an error reply, e.g. `ERR wrong number of arguments` or `WRONGTYPE ...`.
    case server(String)
    /// The server refused the credentials (or required some that were not configured).
    case authenticationFailed(String)
    /// The server sent bytes that are not RESP, or a reply nobody asked for.
    case protocolError(String)
    /// The TLS handshake failed (untrusted certificate, wrong host name, server not speaking TLS).
    case tls(String)
    /// `shutdown()` was called; the pool takes no more commands.
    case poolShutDown
    /// A URL or setting that cannot describe a usable connection.
    case invalidConfiguration(String)

    /// The first word of a server error reply (`NOSCRIPT`, `WRONGTYPE`, `ERR`), which is what code should match on.
    package var serverErrorCode: String? {
        guard case .server(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    package var description: String {
        switch self {
        case .connectionRefused(let reason): "Redis connection failed: \(reason)"
        case .connectTimeout: "Redis connect timed out"
        case .connectionClosed: "Redis connection closed before the reply arrived"
        case .commandTimeout: "Redis command timed out"
        case .server(let message): "Redis error reply: \(message)"
        case .authenticationFailed(let message): "Redis authentication failed: \(message)"
        case .protocolError(let reason): "Redis protocol error: \(reason)"
        case .tls(let reason): "Redis TLS failure: \(reason)"
        case .poolShutDown: "Redis client is shut down"
        case .invalidConfiguration(let reason): "invalid Redis configuration: \(reason)"
        }
    }
}
