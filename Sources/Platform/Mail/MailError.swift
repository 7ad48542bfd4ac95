/// Why a message could not be encoded or delivered; callers branch on the case to decide whether to retry or alert.
package enum MailError: Error, Equatable, Sendable {
    /// A header name or value would break the message structure (CR/LF injection, bad field name, reserved field).
    case invalidHeader(String)
    /// An address that cannot be put on the SMTP envelope as-is (CR/LF, `<>`, non-ASCII, no `@`, too long).
    case invalidAddress(String)
    /// A configuration or SMTP URL that cannot describe a usable connection.
    case invalidConfiguration(String)
    /// The server answered a command with a failure reply (4xx transient, 5xx permanent).
    case rejected(code: Int, message: String)
    /// The TCP connection failed, closed early, or the server spoke something that is not SMTP.
    case connection(String)
    /// The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch).
    case tls(String)
    /// Connecting or waiting for a reply took longer than the configured timeout.
    case timeout
    /// TLS was required but the server does not offer STARTTLS (or refused it).
    case tlsUnavailable
    /// Credentials were configured but would travel unencrypted to a non-loopback host.
    case insecureCredentials
    /// The server refused the credentials, or offers no mechanism we support.
    case authenticationFailed

    /// Only failures that may succeed on a new connection are retried; 5xx and local errors never are.
    package var isTransient: Bool {
        switch self {
        case .connection, .timeout: true
        case .rejected(let code, _): (400..<500).contains(code)
        default: false
        }
    }
}
