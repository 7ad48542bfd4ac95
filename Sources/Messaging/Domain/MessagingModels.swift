import Foundation
import Kernel

/// An email template: Mustache subject, HTML and text parts, one per key and locale.
package struct EmailTemplate: Sendable, Codable, Equatable {
    package let id: ID<EmailTemplate>
    package var key: String
    package var locale: String
    package var name: String
    package var subject: String
    package var html: String?
    package var text: String
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, key, locale, name, subject, html, text, version
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// Someone mail can be sent to, with the fields templates and segments use.
package struct Contact: Sendable, Codable, Equatable {
    package let id: ID<Contact>
    package var email: String
    package var name: String?
    package var locale: String?
    package var attributes: [String: JSONValue]
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, name, locale, attributes
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A mailing list: its members are added by hand (static), or it is a segment whose members are every contact
/// matching its conditions at send time (dynamic).
package struct MailingList: Sendable, Codable, Equatable {
    package let id: ID<MailingList>
    package var name: String
    package var description: String
    package var segment: Segment?
    package var memberCount: Int?
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, description, segment
        case memberCount = "member_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// Conditions on contact fields that all must hold (`email`, `name`, `locale` or `attributes.<name>`).
package struct Segment: Sendable, Codable, Equatable {
    package struct Condition: Sendable, Codable, Equatable {
        package enum Operator: String, Sendable, Codable, CaseIterable {
            case equals, notEquals = "not_equals", contains, exists, notExists = "not_exists", greaterThan = "gt"
            case lessThan = "lt"
        }
        package var field: String
        package var op: Operator
        package var value: JSONValue?
    }
    package var conditions: [Condition]

    /// Whether `contact` matches every condition.
    package func matches(_ contact: Contact) -> Bool {
        conditions.allSatisfy { condition in
            let actual: JSONValue? =
                switch condition.field {
                case "email": .string(contact.email)
                case "name": contact.name.map(JSONValue.string)
                case "locale": contact.locale.map(JSONValue.string)
                default: contact.attributes[String(condition.field.dropFirst("attributes.".count))]
                }
            switch condition.op {
            case .exists: return actual != nil && actual != .null
            case .notExists: return actual == nil || actual == .null
            case .equals: return actual.map { Self.text($0) } == condition.value.map { Self.text($0) }
            case .notEquals: return actual.map { Self.text($0) } != condition.value.map { Self.text($0) }
            case .contains:
                guard let actual, let wanted = condition.value else { return false }
                return Self.text(actual).lowercased().contains(Self.text(wanted).lowercased())
            case .greaterThan, .lessThan:
                guard let left = actual.flatMap(Self.number), let right = condition.value.flatMap(Self.number) else {
                    return false
                }
                return condition.op == .greaterThan ? left > right : left < right
            }
        }
    }

    /// Field names a segment may use.
    package static func isValidField(_ field: String) -> Bool {
        ["email", "name", "locale"].contains(field)
            || (field.hasPrefix("attributes.") && field.count > "attributes.".count)
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: ""
        default: (try? value.encodedText()) ?? ""
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): number
        case .integer(let number): Double(number)
        case .string(let text): Double(text)
        default: nil
        }
    }
}

/// An address that campaigns skip: it unsubscribed, bounced hard, complained, or was added by hand.
package struct Suppression: Sendable, Codable, Equatable {
    package enum Reason: String, Sendable, Codable, CaseIterable {
        case unsubscribed, hardBounce = "hard_bounce", complaint, manual
    }
    package let email: String
    package let reason: Reason
    package let detail: String?
    package let createdAt: Date

    enum CodingKeys: String, CodingKey {
        case email, reason, detail
        case createdAt = "created_at"
    }
}

/// A campaign: one template sent to one list, in throttled batches.
package struct Campaign: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable, CaseIterable {
        case draft, scheduled, sending, paused, sent, cancelled
    }
    package let id: ID<Campaign>
    package var name: String
    package var listID: ID<MailingList>
    package var templateKey: String
    package var status: Status
    package var scheduledAt: Date?
    package var startedAt: Date?
    package var finishedAt: Date?
    package var ratePerMinute: Int
    package var batchSize: Int
    package var createdBy: String?
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, status, version
        case listID = "list_id"
        case templateKey = "template_key"
        case scheduledAt = "scheduled_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case ratePerMinute = "rate_per_minute"
        case batchSize = "batch_size"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// What happened to a campaign's messages, counted from the messages themselves.
package struct CampaignResults: Sendable, Codable, Equatable {
    package var recipients = 0
    package var queued = 0
    package var sent = 0
    package var failed = 0
    package var bounced = 0
    package var suppressed = 0
    package var cancelled = 0
    package var opened = 0
    package var clicked = 0
    package var unsubscribed = 0
}

/// One email to one recipient, from a campaign or sent on its own (transactional), with its delivery status.
package struct EmailMessage: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable, CaseIterable {
        case queued, sent, failed, bounced, suppressed, cancelled
    }
    package let id: ID<EmailMessage>
    package let campaignID: ID<Campaign>?
    package let contactID: ID<Contact>?
    package let email: String
    package let name: String?
    package let locale: String?
    package let templateKey: String
    package let data: JSONValue
    package var status: Status
    package var attempts: Int
    package var error: String?
    package var subject: String?
    package let createdAt: Date
    package var sentAt: Date?
    package var openedAt: Date?
    package var openCount: Int
    package var clickedAt: Date?
    package var clickCount: Int
    package var unsubscribedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, email, name, locale, data, status, attempts, error, subject
        case campaignID = "campaign_id"
        case contactID = "contact_id"
        case templateKey = "template_key"
        case createdAt = "created_at"
        case sentAt = "sent_at"
        case openedAt = "opened_at"
        case openCount = "open_count"
        case clickedAt = "clicked_at"
        case clickCount = "click_count"
        case unsubscribedAt = "unsubscribed_at"
    }
}

/// A tenant's sender and branding.
package struct MessagingSettings: Sendable, Codable, Equatable {
    package struct Brand: Sendable, Codable, Equatable {
        package var name: String?
        package var color: String?
        package var logoURL: String?
        package var footer: String?
        package var postalAddress: String?

        package init() {}

        enum CodingKeys: String, CodingKey {
            case name, color, footer
            case logoURL = "logo_url"
            case postalAddress = "postal_address"
        }
    }
    package var fromName: String?
    package var fromAddress: String?
    package var replyTo: String?
    package var defaultLocale: String
    package var brand: Brand

    package static let defaults = MessagingSettings(
        fromName: nil, fromAddress: nil, replyTo: nil, defaultLocale: "en", brand: Brand())

    package init(fromName: String?, fromAddress: String?, replyTo: String?, defaultLocale: String, brand: Brand) {
        self.fromName = fromName
        self.fromAddress = fromAddress
        self.replyTo = replyTo
        self.defaultLocale = defaultLocale
        self.brand = brand
    }

    /// Every field may be left out: the default locale is then `en` and the brand empty.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        fromName = try container.decodeIfPresent(String.self, forKey: .fromName)
        fromAddress = try container.decodeIfPresent(String.self, forKey: .fromAddress)
        replyTo = try container.decodeIfPresent(String.self, forKey: .replyTo)
        defaultLocale = try container.decodeIfPresent(String.self, forKey: .defaultLocale) ?? "en"
        brand = try container.decodeIfPresent(Brand.self, forKey: .brand) ?? Brand()
    }

    enum CodingKeys: String, CodingKey {
        case brand
        case fromName = "from_name"
        case fromAddress = "from_address"
        case replyTo = "reply_to"
        case defaultLocale = "default_locale"
    }
}
