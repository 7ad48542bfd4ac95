import Foundation
import Kernel
import Logging
import Platform

/// The `messaging.campaign` job: sends one batch of a campaign, then enqueues the next batch after the pause its
/// rate asks for. Each job carries the campaign's run token; pausing, cancelling or resuming changes the token,
/// so a job of an earlier run stops instead of sending.
struct CampaignSender: JobHandler {
    static let jobName = "messaging.campaign"
    let name = CampaignSender.jobName
    let services: MessagingServices

    struct Payload: Codable {
        let campaign: String
        let run: String
    }

    static func request(campaign: ID<Campaign>, run: String, tenant: TenantID, delay: Duration = .zero)
        throws -> Jobs.Request
    {
        var request = Jobs.Request(
            name: jobName, payload: try JSONDocument(encoding: Payload(campaign: campaign.description, run: run)),
            tenant: tenant)
        request.delay = delay
        request.priority = 3
        request.maxAttempts = 10
        return request
    }

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        let body = try JSONDecoder().decode(Payload.self, from: Data(payload.text.utf8))
        guard let tenant, let id = ID<Campaign>(body.campaign) else { return }
        let database = services.database
        let now = services.clock.now()
        // Still this run's turn? Then make the messages once: one per recipient, suppressed addresses recorded
        // as suppressed rather than left out, so the results account for everyone on the list.
        guard
            let campaign = try await database.write(
                tenant: tenant,
                { tx -> Campaign? in
                    guard let row = try await CampaignStore().findRow(id: id, forUpdate: true, in: tx) else {
                        return nil
                    }
                    var campaign = try CampaignStore.decode(row)
                    guard campaign.status == .sending || campaign.status == .scheduled,
                        try row.decode(column: "run_token", as: String?.self) == body.run
                    else { return nil }
                    if campaign.status == .scheduled {
                        campaign.status = .sending
                        campaign.startedAt = now.storedPrecision
                        campaign.updatedAt = now.storedPrecision
                        _ = try await CampaignStore().update(campaign, expectedVersion: campaign.version, in: tx)
                        campaign.version += 1
                        try await MessagingEvents.campaign(campaign, in: tx)
                    }
                    if try row.decode(column: "materialized_at", as: Int64?.self) == nil {
                        try await materialize(campaign, now: now, in: tx)
                    }
                    return campaign
                })
        else { return }
        let batch = try await database.read(tenant: tenant) { tx in
            try await MessageStore().queued(campaign: id, limit: campaign.batchSize, in: tx)
        }
        let started = ContinuousClock.now
        if !batch.isEmpty {
            _ = try await Delivery(services: services).send(batch, tenant: tenant, run: body.run)
        }
        let spent = ContinuousClock.now - started
        // The next batch, or the end.
        let interval = Duration.milliseconds(Int64(campaign.batchSize) * 60_000 / Int64(max(campaign.ratePerMinute, 1)))
        let finishedAt = services.clock.now()
        try await database.write(tenant: tenant) { tx in
            guard let row = try await CampaignStore().findRow(id: id, forUpdate: true, in: tx),
                var current = Optional(try CampaignStore.decode(row)), current.status == .sending,
                try row.decode(column: "run_token", as: String?.self) == body.run
            else { return }
            let remaining = try await MessageStore().queued(campaign: id, limit: 1, in: tx)
            if !batch.isEmpty {
                try await MessagingEvents.progress(id, try await MessageStore().results(campaign: id, in: tx), in: tx)
            }
            if remaining.isEmpty {
                current.status = .sent
                current.finishedAt = finishedAt.storedPrecision
                current.updatedAt = finishedAt.storedPrecision
                _ = try await CampaignStore().update(current, expectedVersion: current.version, in: tx)
                try await CampaignStore().setRun(id: id, token: nil, in: tx)
                try await MessagingEvents.campaign(current, in: tx)
            } else {
                let delay = batch.isEmpty ? Duration.seconds(1) : max(.zero, interval - spent)
                try await Jobs.enqueue(
                    Self.request(campaign: id, run: body.run, tenant: tenant, delay: delay), in: tx, now: finishedAt)
            }
        }
    }

    private func materialize(_ campaign: Campaign, now: Date, in tx: Transaction) async throws {
        guard let list = try await ListStore().find(id: campaign.listID, in: tx) else {
            try await CampaignStore().markMaterialized(id: campaign.id, now: now, in: tx)
            return
        }
        let recipients = try await ListStore().recipients(of: list, in: tx)
        let suppressed = try await SuppressionStore().allKeys(in: tx)
        let messages = recipients.map { contact in
            var data = contact.attributes
            data["contact"] = .object(
                ["email": .string(contact.email), "name": contact.name.map(JSONValue.string) ?? .null])
            let isSuppressed = suppressed.contains(EmailKey.of(contact.email))
            return EmailMessage(
                id: .generate(), campaignID: campaign.id, contactID: contact.id, email: contact.email,
                name: contact.name, locale: contact.locale, templateKey: campaign.templateKey, data: .object(data),
                status: isSuppressed ? .suppressed : .queued, attempts: 0,
                error: isSuppressed ? "suppressed" : nil, subject: nil, createdAt: now.storedPrecision, sentAt: nil,
                openedAt: nil, openCount: 0, clickedAt: nil, clickCount: 0, unsubscribedAt: nil)
        }
        try await MessageStore().insert(messages, in: tx)
        try await CampaignStore().markMaterialized(id: campaign.id, now: now, in: tx)
    }
}

/// The `messaging.send` job: sends one transactional message. A transient failure throws, so the job queue
/// tries again with its backoff.
struct TransactionalSender: JobHandler {
    static let jobName = "messaging.send"
    let name = TransactionalSender.jobName
    let services: MessagingServices

    struct Payload: Codable {
        let message: String
    }

    static func request(message: ID<EmailMessage>, tenant: TenantID) throws -> Jobs.Request {
        var request = Jobs.Request(
            name: jobName, payload: try JSONDocument(encoding: Payload(message: message.description)), tenant: tenant)
        request.priority = 2
        request.maxAttempts = Delivery.maxAttempts
        request.timeout = .seconds(120)
        return request
    }

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        let body = try JSONDecoder().decode(Payload.self, from: Data(payload.text.utf8))
        guard let tenant, let id = ID<EmailMessage>(body.message) else { return }
        guard
            let message = try await services.database.read(
                tenant: tenant, { tx in try await MessageStore().find(id: id, in: tx) }),
            message.status == .queued
        else { return }
        if try await Delivery(services: services).send([message], tenant: tenant) > 0 {
            throw MailError.connection("will try again")
        }
    }
}
