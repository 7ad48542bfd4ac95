import Kernel

extension Permission {
    package static let messagingTemplatesRead: Permission = "messaging.templates:read"
    package static let messagingTemplatesWrite: Permission = "messaging.templates:write"
    package static let messagingContactsRead: Permission = "messaging.contacts:read"
    package static let messagingContactsWrite: Permission = "messaging.contacts:write"
    package static let messagingCampaignsRead: Permission = "messaging.campaigns:read"
    package static let messagingCampaignsWrite: Permission = "messaging.campaigns:write"
    package static let messagingCampaignsSend: Permission = "messaging.campaigns:send"
    package static let messagingSuppressionsRead: Permission = "messaging.suppressions:read"
    package static let messagingSuppressionsWrite: Permission = "messaging.suppressions:write"
    package static let messagingMessagesRead: Permission = "messaging.messages:read"
    package static let messagingMessagesSend: Permission = "messaging.messages:send"
    package static let messagingSettingsWrite: Permission = "messaging.settings:write"
    package static let messagingWebhooksRead: Permission = "messaging.webhooks:read"
    package static let messagingWebhooksWrite: Permission = "messaging.webhooks:write"
    /// The tenant's background jobs and dead letters.
    package static let messagingOperationsRead: Permission = "messaging.operations:read"
    package static let messagingOperationsWrite: Permission = "messaging.operations:write"

    package static let messagingAll: [Permission] = [
        .messagingTemplatesRead, .messagingTemplatesWrite, .messagingContactsRead, .messagingContactsWrite,
        .messagingCampaignsRead, .messagingCampaignsWrite, .messagingCampaignsSend, .messagingSuppressionsRead,
        .messagingSuppressionsWrite, .messagingMessagesRead, .messagingMessagesSend, .messagingSettingsWrite,
        .messagingWebhooksRead, .messagingWebhooksWrite,
        .messagingOperationsRead, .messagingOperationsWrite,
    ]
}
