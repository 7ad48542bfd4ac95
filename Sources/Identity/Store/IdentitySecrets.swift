import Platform

/// The columns where Identity keeps secrets, sealed with the process's `SecretBox` (README, "Secrets at rest").
enum IdentitySecrets {
    static let signingKey = SecretColumn(table: "identity_signing_keys", column: "private_key", tenantOwned: false)
    static let totp = SecretColumn(table: "identity_users", column: "totp_secret", tenantOwned: true)
    static let providerClientSecret = SecretColumn(
        table: "identity_providers", column: "client_secret", tenantOwned: true)

    static let all = [signingKey, totp, providerClientSecret]
}
