import Platform

/// The columns where Messaging keeps secrets, sealed with the process's `SecretBox`.
enum MessagingSecrets {
    /// The installation's key for signing tracking and unsubscribe links.
    static let linkKey = SecretColumn(table: "messaging_keys", column: "secret", tenantOwned: false)
    static let webhookSecret = SecretColumn(
        table: "messaging_webhook_endpoints", column: "secret", tenantOwned: true)
    /// Sealed as a current secret is: rotation moves the current value here unchanged.
    static let previousWebhookSecret = SecretColumn(
        table: "messaging_webhook_endpoints", column: "previous_secret", tenantOwned: true,
        sealedAs: webhookSecret)

    static let all = [linkKey, webhookSecret, previousWebhookSecret]
}
