import Foundation
import Kernel
import Platform

/// Campaigns' use cases, for the API and the pages alike: drafts (create, change, delete), test sends, sending
/// now or at a time, pause, resume, cancel, results. Each takes the caller and typed input, checks the caller's
/// permission first, and commits its change with its audit record, events and jobs in one transaction.
struct CampaignService: Sendable {
    let services: MessagingServices

    /// A draft's fields (the JSON body of `POST`/`PUT /campaigns`; `version` optional, as `If-Match`).
    struct Input: JSONRequestBody {
        let name: String
        let listID: String
        let templateKey: String
        let ratePerMinute: Int?
        let batchSize: Int?
        let version: Int?
        static let fieldNames: Set<String> = [
            "name", "list_id", "template_key", "rate_per_minute", "batch_size", "version",
        ]
        enum CodingKeys: String, CodingKey {
            case name, version
            case listID = "list_id"
            case templateKey = "template_key"
            case ratePerMinute = "rate_per_minute"
            case batchSize = "batch_size"
        }
    }

    /// How a campaign changes state: the action's name (audit, events) and the states it may come from.
    enum Transition: String, Sendable {
        case pause = "paused"
        case resume = "resumed"
        case cancel = "cancelled"

        var from: Set<Campaign.Status> {
            switch self {
            case .pause: [.scheduled, .sending]
            case .resume: [.paused]
            case .cancel: [.draft, .scheduled, .sending, .paused]
            }
        }

        var target: Campaign.Status {
            switch self {
            case .pause: .paused
            case .resume: .sending
            case .cancel: .cancelled
            }
        }
    }

    func validate(_ input: Input, in tx: Transaction) async throws -> (String, ID<MailingList>, String, Int, Int) {
        var validation = Validation()
        let name = Check.text(input.name, field: "name", max: 200, into: &validation)
        let list = ID<MailingList>(input.listID)
        if list == nil {
            validation.add(FieldIssue(field: "list_id", code: "invalid_format", message: "a list id"))
        }
        let rate = input.ratePerMinute ?? 600
        if !(1...100_000).contains(rate) {
            validation.add(FieldIssue(field: "rate_per_minute", code: "out_of_range", message: "1 to 100,000"))
        }
        let batch = input.batchSize ?? 100
        if !(1...1_000).contains(batch) {
            validation.add(FieldIssue(field: "batch_size", code: "out_of_range", message: "1 to 1,000"))
        }
        if let list, try await ListStore().find(id: list, in: tx) == nil {
            validation.add(FieldIssue(field: "list_id", code: "not_found", message: "no list \(list)"))
        }
        if try await !TemplateStore().exists(key: input.templateKey, in: tx) {
            validation.add(
                FieldIssue(field: "template_key", code: "not_found", message: "no template \(input.templateKey)"))
        }
        try validation.check()
        return (name, list!, input.templateKey, rate, batch)
    }

    func create(_ input: Input, by caller: Caller) async throws -> Campaign {
        try caller.require(.messagingCampaignsWrite)
        let now = services.clock.now().storedPrecision
        return try await services.database.audited(
            "messaging.campaign.created", target: "campaign", id: { $0.id.description }, at: now, by: caller
        ) { tx -> Campaign in
            let (name, list, template, rate, batch) = try await validate(input, in: tx)
            let campaign = Campaign(
                id: .generate(), name: name, listID: list, templateKey: template, status: .draft, scheduledAt: nil,
                startedAt: nil, finishedAt: nil, ratePerMinute: rate, batchSize: batch,
                createdBy: caller.principal.subject, version: 1, createdAt: now, updatedAt: now)
            try await CampaignStore().insert(campaign, in: tx)
            return campaign
        }
    }

    /// A page of campaigns, newest first.
    func list(status: Campaign.Status?, limit: Int, after: ID<Campaign>?, by caller: Caller) async throws
        -> [Campaign]
    {
        try caller.require(.messagingCampaignsRead)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await CampaignStore().list(limit: limit, after: after, status: status, in: tx)
        }
    }

    func find(_ id: ID<Campaign>, by caller: Caller) async throws -> Campaign {
        try caller.require(.messagingCampaignsRead)
        guard
            let campaign = try await services.database.read(
                tenant: caller.tenant, { tx in try await CampaignStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "campaign") }
        return campaign
    }

    /// Changes a draft; `precondition` checks the stored version (the request's `If-Match` or body `version`).
    func update(
        _ id: ID<Campaign>, _ input: Input, precondition: @escaping @Sendable (Int) throws -> Void, by caller: Caller
    ) async throws -> Campaign {
        try caller.require(.messagingCampaignsWrite)
        let now = services.clock.now().storedPrecision
        return try await services.database.audited(
            "messaging.campaign.updated", target: "campaign", id: { _ in id.description }, at: now, by: caller
        ) { tx -> Campaign in
            guard var campaign = try await CampaignStore().find(id: id, forUpdate: true, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            try precondition(campaign.version)
            let expected = campaign.version
            guard campaign.status == .draft else {
                throw DomainError.conflict("only a draft can be edited; this campaign is \(campaign.status.rawValue)")
            }
            let (name, list, template, rate, batch) = try await validate(input, in: tx)
            campaign.name = name
            campaign.listID = list
            campaign.templateKey = template
            campaign.ratePerMinute = rate
            campaign.batchSize = batch
            campaign.updatedAt = now
            guard try await CampaignStore().update(campaign, expectedVersion: expected, in: tx) else {
                throw Preconditions.failed(current: Preconditions.etag(version: expected + 1))
            }
            campaign.version = expected + 1
            return campaign
        }
    }

    /// Deletes a draft; `precondition` as for `update`.
    func delete(_ id: ID<Campaign>, precondition: @escaping @Sendable (Int) throws -> Void, by caller: Caller)
        async throws
    {
        try caller.require(.messagingCampaignsWrite)
        try await services.database.audited(
            "messaging.campaign.deleted", target: "campaign", id: { _ in id.description },
            at: services.clock.now(), by: caller
        ) { tx in
            guard let campaign = try await CampaignStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            try precondition(campaign.version)
            guard try await CampaignStore().delete(id: id, in: tx) else {
                throw DomainError.conflict("only a draft can be deleted; this campaign is \(campaign.status.rawValue)")
            }
        }
    }

    /// Sends the campaign's template to up to 10 addresses now, as the first list member would see it, with the
    /// subject marked as a test. Test messages are stored as transactional messages (no tracking).
    func testSend(_ id: ID<Campaign>, to: [String], by caller: Caller) async throws -> [EmailMessage] {
        try caller.require(.messagingCampaignsSend)
        let campaign = try await find(id, by: caller)
        var validation = Validation()
        if to.isEmpty || to.count > 10 {
            validation.add(FieldIssue(field: "to", code: "invalid_length", message: "1 to 10 addresses"))
        }
        let addresses = to.enumerated().compactMap { index, text in
            Check.email(text, field: "to[\(index)]", into: &validation)
        }
        try validation.check()
        let now = services.clock.now().storedPrecision
        let messages = try await services.database.audited(
            "messaging.campaign.test_sent", target: "campaign", id: { _ in campaign.id.description },
            details: { _ in ["to": .array(addresses.map { .string($0.address) })] }, at: now, by: caller
        ) { tx -> [EmailMessage] in
            var sample: [String: JSONValue] = [:]
            if let list = try await ListStore().find(id: campaign.listID, in: tx),
                let first = try await ListStore().members(of: list, limit: 1, after: nil, in: tx).first
            {
                sample = first.attributes
                sample["contact"] = .object([
                    "email": .string(first.email), "name": first.name.map(JSONValue.string) ?? .null,
                ])
            }
            sample["test"] = .bool(true)
            let messages = addresses.map { address in
                EmailMessage(
                    id: .generate(), campaignID: nil, contactID: nil, email: address.address, name: address.name,
                    locale: nil, templateKey: campaign.templateKey, data: .object(sample), status: .queued, attempts: 0,
                    error: nil, subject: nil, createdAt: now, sentAt: nil, openedAt: nil, openCount: 0, clickedAt: nil,
                    clickCount: 0, unsubscribedAt: nil)
            }
            try await MessageStore().insert(messages, in: tx)
            return messages
        }
        _ = try await Delivery(services: services).send(messages, tenant: caller.tenant)
        return try await services.database.read(tenant: caller.tenant) { tx in
            var found: [EmailMessage] = []
            for message in messages {
                if let stored = try await MessageStore().find(id: message.id, in: tx) { found.append(stored) }
            }
            return found
        }
    }

    /// Sends now, or at `sendAt` (RFC 3339; a time already past sends now): the campaign becomes `sending` (or
    /// `scheduled`) and its first batch job is enqueued in the same transaction.
    func send(_ id: ID<Campaign>, at text: String?, by caller: Caller) async throws -> Campaign {
        try caller.require(.messagingCampaignsSend)
        let now = services.clock.now().storedPrecision
        var sendAt: Date?
        if let text {
            guard let date = RFC3339.date(from: text) else {
                throw DomainError.validation([
                    FieldIssue(field: "send_at", code: "invalid_format", message: "an RFC 3339 time")
                ])
            }
            sendAt = date > now ? date.storedPrecision : nil
        }
        let at = sendAt
        return try await services.database.audited(
            at == nil ? "messaging.campaign.sent" : "messaging.campaign.scheduled", target: "campaign",
            id: { _ in id.description }, at: now, by: caller
        ) { tx -> Campaign in
            guard var campaign = try await CampaignStore().find(id: id, forUpdate: true, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            guard campaign.status == .draft || campaign.status == .scheduled else {
                throw DomainError.conflict("this campaign is \(campaign.status.rawValue); only a draft can be sent")
            }
            guard try await TemplateStore().exists(key: campaign.templateKey, in: tx) else {
                throw DomainError.conflict("the template \(campaign.templateKey) no longer exists")
            }
            let run = UUID.v7().lowercasedString
            campaign.status = at == nil ? .sending : .scheduled
            campaign.scheduledAt = at
            campaign.startedAt = at == nil ? now : nil
            campaign.updatedAt = now
            guard try await CampaignStore().update(campaign, expectedVersion: campaign.version, in: tx) else {
                throw DomainError.conflict("the campaign changed meanwhile; try again")
            }
            campaign.version += 1
            try await CampaignStore().setRun(id: id, token: run, in: tx)
            let delay = at.map { Duration.milliseconds($0.epochMilliseconds - now.epochMilliseconds) } ?? .zero
            try await Jobs.enqueue(
                CampaignSender.request(campaign: id, run: run, tenant: caller.tenant, delay: delay), in: tx, now: now)
            try await MessagingEvents.campaign(campaign, in: tx)
            return campaign
        }
    }

    /// Pauses, resumes or cancels the campaign (409 from a state the transition does not leave).
    func apply(_ transition: Transition, to id: ID<Campaign>, by caller: Caller) async throws -> Campaign {
        try caller.require(.messagingCampaignsSend)
        let now = services.clock.now().storedPrecision
        let action = transition.rawValue
        return try await services.database.audited(
            "messaging.campaign.\(action)", target: "campaign", id: { _ in id.description }, at: now, by: caller
        ) { tx -> Campaign in
            guard var campaign = try await CampaignStore().find(id: id, forUpdate: true, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            guard transition.from.contains(campaign.status) else {
                throw DomainError.conflict("this campaign is \(campaign.status.rawValue); it cannot be \(action)")
            }
            let target = transition.target
            campaign.status = target
            campaign.updatedAt = now
            if target == .cancelled { campaign.finishedAt = now }
            if target == .sending && campaign.startedAt == nil { campaign.startedAt = now }
            guard try await CampaignStore().update(campaign, expectedVersion: campaign.version, in: tx) else {
                throw DomainError.conflict("the campaign changed meanwhile; try again")
            }
            campaign.version += 1
            switch target {
            case .sending:
                let run = UUID.v7().lowercasedString
                try await CampaignStore().setRun(id: id, token: run, in: tx)
                try await Jobs.enqueue(
                    CampaignSender.request(campaign: id, run: run, tenant: caller.tenant), in: tx, now: now)
            case .cancelled:
                try await CampaignStore().setRun(id: id, token: nil, in: tx)
                try await MessageStore().cancelQueued(campaign: id, in: tx)
            default:
                try await CampaignStore().setRun(id: id, token: nil, in: tx)
            }
            try await MessagingEvents.campaign(campaign, in: tx)
            return campaign
        }
    }

    /// What happened to the campaign's messages so far.
    func results(_ id: ID<Campaign>, by caller: Caller) async throws -> CampaignResults {
        let campaign = try await find(id, by: caller)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await MessageStore().results(campaign: campaign.id, in: tx)
        }
    }
}
