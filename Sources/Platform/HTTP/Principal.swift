import Hummingbird
import Kernel
import Logging
import NIOCore

/// Who is making a request, once Identity (or the gateway) has verified their credentials.
package struct Principal: Sendable, Equatable {
    /// What sort of credential the principal authenticated with.
    package enum Kind: String, Sendable {
        case user
        case apiKey = "api_key"
        case service
    }

    package let subject: String
    package let kind: Kind
    package let permissions: Set<Permission>

    package init(subject: String, kind: Kind, permissions: Set<Permission>) {
        self.subject = subject
        self.kind = kind
        self.permissions = permissions
    }
}
