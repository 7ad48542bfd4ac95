import Kernel

extension Permission {
    package static let crmLeadsRead: Permission = "crm.leads:read"
    package static let crmLeadsWrite: Permission = "crm.leads:write"
    package static let crmDealsRead: Permission = "crm.deals:read"
    package static let crmDealsWrite: Permission = "crm.deals:write"
    /// Deleting records, custom field definitions, assignment rules: the CRM's administration.
    package static let crmAdmin: Permission = "crm.admin:manage"

    package static let crmAll: [Permission] = [
        .crmLeadsRead, .crmLeadsWrite, .crmDealsRead, .crmDealsWrite, .crmAdmin,
    ]
}
