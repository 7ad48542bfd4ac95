import Hummingbird
import Kernel
import Logging
import NIOCore

/// Who is making a request, once Identity (or the gateway) has verified their credentials.
public struct Principal: Sendable, Equatable {
    /// What sort of credential the principal authenticated with.
    public enum Kind: String, Sendable {
        case user
        case apiKey = "api_key"
        case service
    }

    public let subject: String
    public let kind: Kind
    public let permissions: Set<Permission>

    public init(subject: String, kind: Kind, permissions: Set<Permission>) {
        self.subject = subject
        self.kind = kind
        self.permissions = permissions
    }
}
