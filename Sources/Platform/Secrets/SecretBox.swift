import Crypto
import Foundation
import Kernel

/// A column that holds secrets sealed at rest, declared by the module that owns it (`Module.secretColumns`), so that
/// migrations seal what was stored in plaintext and `inopsio secrets rotate-key` re-seals it under a new key.
package struct SecretColumn: Sendable, Hashable, CustomStringConvertible {
    package let table: String
    package let column: String
    /// Whether the table is tenant-owned (has `tenant_id` behind row-level security).
    package let tenantOwned: Bool
    /// The place the values are sealed for: this column, or another whose values move here unchanged (a webhook's
    /// current secret becoming its previous one).
    private let sealedFor: String

    package init(table: String, column: String, tenantOwned: Bool, sealedAs other: SecretColumn? = nil) {
        self.table = table
        self.column = column
        self.tenantOwned = tenantOwned
        self.sealedFor = other?.sealedFor ?? "\(table).\(column)"
    }

    package var description: String { "\(table).\(column)" }

    /// The additional authenticated data of a seal: the column and the tenant. A sealed value copied to another
    /// column or another tenant's row does not open.
    func associatedData(tenant: TenantID?) -> Data {
        Data("inopsio:\(sealedFor):\(tenant?.description ?? "-")".utf8)
    }
}

/// Seals and opens secrets with the process's `SecretKeyring` (AES-256-GCM, a fresh 96-bit nonce per value).
///
/// A sealed value is text: `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. It names the key that
/// sealed it, so values sealed under older keys still open while a rotation re-seals them.
package struct SecretBox: Sendable {
    package static let prefix = "sealed:v1:"
    package let keyring: SecretKeyring

    package init(keyring: SecretKeyring) {
        self.keyring = keyring
    }

    /// A box over one new in-memory key (tests).
    package static func ephemeral() -> SecretBox { SecretBox(keyring: .ephemeral()) }

    /// Seals `plaintext` for `column` (and `tenant`, for a tenant-owned column) under the current key.
    package func seal(_ plaintext: String, in column: SecretColumn, tenant: TenantID?) throws -> String {
        try seal(plaintext, in: column, tenant: tenant, with: keyring.current())
    }

    func seal(_ plaintext: String, in column: SecretColumn, tenant: TenantID?, with key: SecretKeyring.Key) throws
        -> String
    {
        let box = try AES.GCM.seal(
            Data(plaintext.utf8), using: key.key, authenticating: column.associatedData(tenant: tenant))
        guard let combined = box.combined else { throw SecretError.malformed }
        return Self.prefix + key.id + ":" + Base64URL.encode(combined)
    }

    /// Opens a value `seal` made for the same column and tenant.
    package func open(_ sealed: String, in column: SecretColumn, tenant: TenantID?) throws -> String {
        guard let keyID = Self.keyID(of: sealed) else { throw SecretError.malformed }
        guard let key = keyring.key(id: keyID) else { throw SecretError.unknownKey(keyID) }
        let payload = sealed.dropFirst(Self.prefix.count + keyID.count + 1)
        guard let combined = Base64URL.decode(payload), let box = try? AES.GCM.SealedBox(combined: combined) else {
            throw SecretError.malformed
        }
        guard
            let data = try? AES.GCM.open(box, using: key.key, authenticating: column.associatedData(tenant: tenant)),
            let text = String(data: data, encoding: .utf8)
        else { throw SecretError.tampered }
        return text
    }

    /// The id of the key that sealed `value`, or nil when it is not a sealed value.
    package static func keyID(of value: String) -> String? {
        guard value.hasPrefix(prefix) else { return nil }
        let rest = value.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let id = String(rest[..<colon])
        return SecretKeyring.isKeyID(id) ? id : nil
    }
}
