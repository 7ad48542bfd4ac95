import Foundation
import Kernel
import Platform

/// Any module may ask for people of a tenant to be told something by email: it commits an
/// `identity.admin_notice.requested` event (`AdminNotice`: every active tenant admin) or an
/// `identity.user_notice.requested` event (`UserNotice`: one user) with its change. This consumer turns each into
/// a job in its own transaction; the job sends the mail.
struct NoticeConsumer: EventConsumer {
    let group = "identity.notices"
    let eventTypes = [AdminNotice.eventType, UserNotice.eventType]

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        let job = event.type == UserNotice.eventType ? UserNoticeMailer.jobName : AdminNoticeMailer.jobName
        var request = Jobs.Request(name: job, payload: event.data, tenant: try transaction.requireTenant())
        request.priority = 2
        try await Jobs.enqueue(request, in: transaction)
    }
}

/// Mails one admin notice to every active tenant admin.
struct AdminNoticeMailer: JobHandler {
    static let jobName = "identity.admin_notice"
    let name = AdminNoticeMailer.jobName
    let database: any Database
    let mailer: Mailer

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        guard let tenant else { return }
        let notice = try JSONDecoder().decode(AdminNotice.self, from: Data(payload.text.utf8))
        let admins = try await database.read(tenant: tenant) { tx in
            try await UserStore().activeAddresses(withRole: BuiltInRole.tenantAdmin.rawValue, in: tx)
        }
        // One message per admin, so one bad address does not hold back the others; a retry may repeat a message.
        for admin in admins {
            try await mailer.send(
                to: MailAddress(admin.email, name: admin.name), subject: Self.subject(notice.subject), text: notice.text)
        }
    }
}

/// Mails one user notice to its user, when that user is an active member of the tenant (a notice for an unknown,
/// suspended or another tenant's user is dropped: the event's sender cannot check who is a user).
struct UserNoticeMailer: JobHandler {
    static let jobName = "identity.user_notice"
    let name = UserNoticeMailer.jobName
    let database: any Database
    let mailer: Mailer

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        guard let tenant else { return }
        let notice = try JSONDecoder().decode(UserNotice.self, from: Data(payload.text.utf8))
        guard let id = ID<User>(notice.userID) else { return }
        let user = try await database.read(tenant: tenant) { tx in try await UserStore().find(id: id, in: tx) }
        guard let user, user.status == .active else { return }
        try await mailer.send(
            to: MailAddress(user.email, name: user.name), subject: AdminNoticeMailer.subject(notice.subject),
            text: notice.text)
    }
}

extension AdminNoticeMailer {
    /// A notice's subject as one line of at most 200 characters: the sender may have built it from a record's
    /// text, and a line break in a subject is refused by every mail transport.
    static func subject(_ text: String) -> String {
        String(text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ").prefix(200))
    }
}
