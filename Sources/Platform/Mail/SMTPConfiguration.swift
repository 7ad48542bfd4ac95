import Foundation

/// Everything needed to reach one SMTP relay; a value type so it can come from config files or `parse(url:)`.
package struct SMTPConfiguration: Sendable, Equatable {
    /// How the connection is protected; plaintext is only sensible for loopback relays and tests.
    package enum Security: Sendable, Equatable {
        case none
        /// Upgrade with STARTTLS; when not `required`, carry on in plaintext if the server does not offer it.
        case startTLS(required: Bool)
        /// TLS from the first byte (SMTPS, usually port 465).
        case implicitTLS
    }

    /// Whether the server certificate is checked; `.none` exists for explicitly opted-in development setups only.
    package enum CertificateVerification: Sendable, Equatable {
        case fullVerification
        case none
    }

    /// Which CAs are trusted, so a private relay's CA can be pinned without touching the system store.
    package enum TrustRoots: Sendable, Equatable {
        case `default`
        /// A PEM file of CA certificates.
        case file(String)
    }

    package var host: String
    package var port: Int
    package var security: Security
    package var username: String?
    package var password: String?
    package var heloName: String
    package var connectTimeout: Duration
    package var commandTimeout: Duration
    package var maxAttempts: Int
    /// Pause before attempt 2, 3, ...; the last entry repeats when there are more attempts than entries.
    package var retryBackoff: [Duration]
    package var certificateVerification: CertificateVerification
    package var trustRoots: TrustRoots

    package init(
        host: String, port: Int? = nil, security: Security = .startTLS(required: true), username: String? = nil,
        password: String? = nil, heloName: String = "localhost", connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(30), maxAttempts: Int = 3,
        retryBackoff: [Duration] = [.milliseconds(500), .seconds(2)],
        certificateVerification: CertificateVerification = .fullVerification, trustRoots: TrustRoots = .default
    ) {
        self.host = host
        self.port = port ?? (security == .implicitTLS ? 465 : 25)
        self.security = security
        self.username = username
        self.password = password
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maxAttempts = maxAttempts
        self.retryBackoff = retryBackoff
        self.certificateVerification = certificateVerification
        self.trustRoots = trustRoots
    }

    /// Credentials only count when both parts are present; a lone username is a configuration slip, not auth.
    var credentials: (username: String, password: String)? {
        guard let username, let password, !username.isEmpty else { return nil }
        return (username, password)
    }

    /// Loopback relays (a local Postfix, a test server) may receive credentials without TLS; nothing else may.
    var hostIsLoopback: Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// Reads `smtp://user:pass@host:587?starttls=required|opportunistic|off` or `smtps://user:pass@host:465`,
    /// plus `verify=none` and `ca=/path.pem`, so deployments configure mail with one secret string.
    package static func parse(url: String) throws(MailError) -> SMTPConfiguration {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidConfiguration("not a URL")
        }
        guard let rawHost = components.percentEncodedHost, !rawHost.isEmpty,
            let host = rawHost.removingPercentEncoding
        else { throw .invalidConfiguration("missing host") }
        var security: Security
        switch scheme {
        case "smtp": security = .startTLS(required: false)
        case "smtps": security = .implicitTLS
        default: throw .invalidConfiguration("unsupported scheme \(scheme)")
        }
        var configuration = SMTPConfiguration(
            host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: components.port,
            security: security)
        configuration.username = try decoded(components.percentEncodedUser, part: "user")
        configuration.password = try decoded(components.percentEncodedPassword, part: "password")
        for item in components.queryItems ?? [] {
            switch (item.name.lowercased(), item.value ?? "") {
            case ("starttls", let value) where scheme == "smtp":
                switch value.lowercased() {
                case "required": security = .startTLS(required: true)
                case "opportunistic": security = .startTLS(required: false)
                case "off", "none": security = .none
                default: throw .invalidConfiguration("starttls must be required, opportunistic or off")
                }
            case ("verify", let value):
                guard ["none", "full"].contains(value.lowercased()) else {
                    throw .invalidConfiguration("verify must be none or full")
                }
                configuration.certificateVerification = value.lowercased() == "none" ? .none : .fullVerification
            case ("ca", let path) where !path.isEmpty:
                configuration.trustRoots = .file(path)
            case ("helo", let name) where !name.isEmpty:
                configuration.heloName = name
            default:
                throw .invalidConfiguration("unsupported query parameter \(item.name)")
            }
        }
        configuration.security = security
        guard (1...65535).contains(configuration.port) else { throw .invalidConfiguration("invalid port") }
        return configuration
    }

    /// `URLComponents.user` would already decode, but going through the percent-encoded form keeps `+` literal.
    private static func decoded(_ value: String?, part: String) throws(MailError) -> String? {
        guard let value else { return nil }
        guard let decoded = value.removingPercentEncoding else {
            throw .invalidConfiguration("bad percent-encoding in \(part)")
        }
        return decoded
    }
}

extension SMTPConfiguration: CustomStringConvertible {
    /// Redacts the password so configurations can be logged.
    package var description: String {
        let user = username.map { "\($0):***@" } ?? ""
        return "smtp \(security) \(user)\(host):\(port)"
    }
}
