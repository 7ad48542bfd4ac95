import Crypto
import Foundation
import Kernel
import Platform

/// Signs the links a message carries (open pixel, clicks, unsubscribe) so that they name a tenant and message
/// nobody can forge or alter: `<base64url(payload)>.<base64url(HMAC-SHA256(key, payload)[0..<16])>`.
///
/// The payload is `kind|tenant|message` and, for clicks, `|url`. Links never expire: an unsubscribe link in a
/// years-old message must still work.
package struct LinkSigner: Sendable {
    package enum Kind: String, Sendable {
        case open = "o", click = "c", unsubscribe = "u"
    }

    package struct Link: Sendable, Equatable {
        package let kind: Kind
        package let tenant: TenantID
        package let message: ID<EmailMessage>
        package let url: String?
    }

    private let key: SymmetricKey

    package init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data(("inopsio-messaging-links|" + secret).utf8)))
    }

    package func token(_ kind: Kind, tenant: TenantID, message: ID<EmailMessage>, url: String? = nil) -> String {
        var payload = "\(kind.rawValue)|\(tenant.rawValue.lowercasedString)|\(message.rawValue.lowercasedString)"
        if let url { payload += "|" + url }
        let data = Data(payload.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: data, using: key)
        return Base64URL.encode(data) + "." + Base64URL.encode(Data(mac).prefix(16))
    }

    /// The link a token names, `nil` when it was not signed with this key or is malformed.
    package func verify(_ token: String, expecting kind: Kind) -> Link? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]),
            mac.count == 16
        else { return nil }
        let expected = Data(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(16)
        // Constant time: compare every byte.
        guard zip(expected, mac).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        guard let text = String(data: payload, encoding: .utf8) else { return nil }
        let fields = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 3, fields[0] == kind.rawValue, let tenant = UUID(uuidString: fields[1]),
            let message = ID<EmailMessage>(fields[2])
        else { return nil }
        let url = fields.count == 4 ? fields[3] : nil
        guard (kind == .click) == (url != nil) else { return nil }
        return Link(kind: kind, tenant: TenantID(tenant), message: message, url: url)
    }
}
