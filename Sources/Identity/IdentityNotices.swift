import Foundation
import Kernel
import Platform

/// Any module may ask for the tenant's admins to be told something by email: it commits an
/// `identity.admin_notice.requested` event (`{"subject": ..., "text": ...}`) with its change. This consumer
/// turns the event into a job in its own transaction; the job mails every active tenant admin.
struct AdminNoticeConsumer: EventConsumer {
    static let eventType = "identity.admin_notice.requested"
    let group = "identity.notices"
    let eventTypes = [AdminNoticeConsumer.eventType]

    struct Notice: Codable {
        let subject: String
        let text: String
    }

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        let notice = try JSONDecoder().decode(Notice.self, from: Data(event.data.text.utf8))
        var request = Jobs.Request(
            name: AdminNoticeMailer.jobName, payload: try JSONDocument(encoding: notice),
            tenant: try transaction.requireTenant())
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
        let notice = try JSONDecoder().decode(AdminNoticeConsumer.Notice.self, from: Data(payload.text.utf8))
        let admins = try await database.read(tenant: tenant) { tx in
            try await UserStore().activeAddresses(withRole: BuiltInRole.tenantAdmin.rawValue, in: tx)
        }
        // One message per admin, so one bad address does not hold back the others; a retry may repeat a message.
        for admin in admins {
            try await mailer.send(
                to: MailAddress(admin.email, name: admin.name), subject: String(notice.subject.prefix(200)),
                text: notice.text)
        }
    }
}
