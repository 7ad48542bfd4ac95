import Foundation
import Kernel
import Platform

/// Sends an activity's reminder when it falls due: a job enqueued (delayed until `remind_at`) in the transaction
/// that set the time. When it runs it marks the reminder sent, unless the time changed since (that change
/// enqueued its own job), it was sent already or the task is done, and asks Identity to mail the owner (else the
/// author) with `identity.user_notice.requested`, committing `crm.activity.reminder_due` with it.
struct ActivityReminder: JobHandler {
    static let jobName = "crm.activity_reminder"
    let name = ActivityReminder.jobName
    let database: any Database
    let clock: any WallClock

    struct Payload: Codable {
        let activityID: UUID
        /// The reminder time the job is for, in milliseconds since 1970.
        let remindAt: Int64

        enum CodingKeys: String, CodingKey {
            case activityID = "activity_id"
            case remindAt = "remind_at"
        }
    }

    static func schedule(_ activity: UUID, at remindAt: Date, now: Date, in tx: Transaction) async throws {
        var request = Jobs.Request(
            name: jobName,
            payload: try JSONDocument(encoding: Payload(activityID: activity, remindAt: remindAt.epochMilliseconds)),
            tenant: try tx.requireTenant())
        request.priority = 2
        request.delay = .milliseconds(max(0, remindAt.epochMilliseconds - now.epochMilliseconds))
        try await Jobs.enqueue(request, in: tx, now: now)
    }

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        guard let tenant else { return }
        let job = try JSONDecoder().decode(Payload.self, from: Data(payload.text.utf8))
        let now = clock.now().storedPrecision
        try await database.write(tenant: tenant) { tx in
            guard
                let activity = try await ActivityStore().markReminded(
                    job.activityID, remindAt: Date(epochMilliseconds: job.remindAt), now: now, in: tx)
            else { return }
            let title = activity.title
            let due = activity.dueAt.map { " (due \(RFC3339.string(from: $0)))" } ?? ""
            let notice = UserNotice(
                userID: activity.remindee, subject: "Reminder: \(title)",
                text: """
                    A reminder for your CRM \(activity.kind.rawValue)\(due):

                    \(title)
                    \(activity.body.map { "\n" + Activity.plain($0) + "\n" } ?? "")
                    The activity is \(activity.id) in the CRM.
                    """)
            try await CRMEvents.append(
                "crm.activity.reminder_due", activity, entity: "activity", id: activity.id.rawValue, traceparent: nil,
                in: tx)
            try await CRMEvents.append(
                UserNotice.eventType, notice, entity: "activity", id: activity.id.rawValue, traceparent: nil, in: tx)
        }
    }
}
