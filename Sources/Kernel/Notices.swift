import Foundation

/// Asks Identity to mail a tenant's admins: a module commits an event of this type (`{"subject", "text"}`) with
/// its change, and Identity's consumer mails every active tenant admin.
package struct AdminNotice: Sendable, Codable, Equatable {
    package static let eventType = "identity.admin_notice.requested"
    package let subject: String
    package let text: String

    package init(subject: String, text: String) {
        self.subject = subject
        self.text = text
    }
}

/// Asks Identity to mail one user of the tenant (`{"user_id", "subject", "text"}`): a task reminder, an @mention.
/// A user who is not an active member of the event's tenant gets nothing.
package struct UserNotice: Sendable, Codable, Equatable {
    package static let eventType = "identity.user_notice.requested"
    package let userID: String
    package let subject: String
    package let text: String

    enum CodingKeys: String, CodingKey {
        case subject, text
        case userID = "user_id"
    }

    package init(userID: String, subject: String, text: String) {
        self.userID = userID
        self.subject = subject
        self.text = text
    }
}
