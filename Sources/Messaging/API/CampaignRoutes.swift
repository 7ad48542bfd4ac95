import Foundation
import Hummingbird
import Kernel
import Platform

/// Campaigns: drafts, test sends, scheduling and sending, pause, resume, cancel, results and messages.
struct CampaignRoutes: Sendable {
    let services: MessagingServices

    struct Body: JSONRequestBody {
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

    struct ScheduleBody: JSONRequestBody {
        let sendAt: String?
        static let fieldNames: Set<String> = ["send_at"]
        enum CodingKeys: String, CodingKey { case sendAt = "send_at" }
    }

    struct TestBody: JSONRequestBody {
        let to: [String]
        static let fieldNames: Set<String> = ["to"]
    }

    struct TestResult: Encodable {
        let messages: [EmailMessage]
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(MessagingAPI.base)/campaigns"
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.post(RouterPath(base)) { request, context in try await create(request, context) }
        routes.get("\(base)/{id}") { _, context in
            let campaign = try await find(context)
            return try JSONResponse.make(campaign, headers: [.eTag: Preconditions.etag(version: campaign.version)])
        }
        routes.put("\(base)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
        routes.post("\(base)/{id}/test") { request, context in try await testSend(request, context) }
        routes.post("\(base)/{id}/send") { request, context in try await send(request, context) }
        routes.post("\(base)/{id}/pause") { request, context in
            try await JSONBody.requireNone(request, context: context)
            return try await transition(request, context, action: "paused", from: [.scheduled, .sending], to: .paused)
        }
        routes.post("\(base)/{id}/resume") { request, context in
            try await JSONBody.requireNone(request, context: context)
            return try await transition(request, context, action: "resumed", from: [.paused], to: .sending)
        }
        routes.post("\(base)/{id}/cancel") { request, context in
            try await JSONBody.requireNone(request, context: context)
            return try await transition(
                request, context, action: "cancelled", from: [.draft, .scheduled, .sending, .paused], to: .cancelled)
        }
        routes.get("\(base)/{id}/results") { _, context in try JSONResponse.make(try await results(context)) }
        routes.get("\(base)/{id}/messages") { request, context in try await messages(request, context) }
    }

    func validate(_ body: Body, in tx: Transaction) async throws -> (String, ID<MailingList>, String, Int, Int) {
        var validation = Validation()
        let name = Check.text(body.name, field: "name", max: 200, into: &validation)
        let list = ID<MailingList>(body.listID)
        if list == nil {
            validation.add(FieldIssue(field: "list_id", code: "invalid_format", message: "a list id"))
        }
        let rate = body.ratePerMinute ?? 600
        if !(1...100_000).contains(rate) {
            validation.add(FieldIssue(field: "rate_per_minute", code: "out_of_range", message: "1 to 100,000"))
        }
        let batch = body.batchSize ?? 100
        if !(1...1_000).contains(batch) {
            validation.add(FieldIssue(field: "batch_size", code: "out_of_range", message: "1 to 1,000"))
        }
        if let list, try await ListStore().find(id: list, in: tx) == nil {
            validation.add(FieldIssue(field: "list_id", code: "not_found", message: "no list \(list)"))
        }
        if try await !TemplateStore().exists(key: body.templateKey, in: tx) {
            validation.add(
                FieldIssue(field: "template_key", code: "not_found", message: "no template \(body.templateKey)"))
        }
        try validation.check()
        return (name, list!, body.templateKey, rate, batch)
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsWrite)
        let body = try await JSONBody.decode(Body.self, from: request, context: context)
        let campaign = try await create(body, request, context)
        return try JSONResponse.created(campaign, location: "\(MessagingAPI.base)/campaigns/\(campaign.id)")
    }

    func create(_ body: Body, _ request: Request, _ context: AppRequestContext) async throws -> Campaign {
        try context.require(.messagingCampaignsWrite)
        let principal = try context.requirePrincipal()
        let now = services.clock.now().storedPrecision
        return try await services.audited(
            "messaging.campaign.created", target: "campaign", id: { $0.id.description }, request: request,
            context: context
        ) { tx -> Campaign in
            let (name, list, template, rate, batch) = try await validate(body, in: tx)
            let campaign = Campaign(
                id: .generate(), name: name, listID: list, templateKey: template, status: .draft, scheduledAt: nil,
                startedAt: nil, finishedAt: nil, ratePerMinute: rate, batchSize: batch, createdBy: principal.subject,
                version: 1, createdAt: now, updatedAt: now)
            try await CampaignStore().insert(campaign, in: tx)
            return campaign
        }
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorID(Campaign.self)
        var status: Campaign.Status?
        if let text = request.query("status") {
            guard let parsed = Campaign.Status(rawValue: text) else {
                throw Problem(
                    status: .badRequest, detail: "status is one of \(Campaign.Status.allCases.map(\.rawValue))")
            }
            status = parsed
        }
        let filter = status
        let campaigns = try await services.database.read(tenant: tenant) { tx in
            try await CampaignStore().list(limit: limit + 1, after: after, status: filter, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: campaigns, limit: limit) { $0.id.description })
    }

    func find(_ context: AppRequestContext) async throws -> Campaign {
        try context.require(.messagingCampaignsRead)
        let tenant = try context.requireTenant()
        let id = try ID<Campaign>.path(context, entity: "campaign")
        guard
            let campaign = try await services.database.read(
                tenant: tenant, { tx in try await CampaignStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "campaign") }
        return campaign
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsWrite)
        let id = try ID<Campaign>.path(context, entity: "campaign")
        let body = try await JSONBody.decode(Body.self, from: request, context: context)
        let headers = request.headers
        let now = services.clock.now().storedPrecision
        let updated = try await services.audited(
            "messaging.campaign.updated", target: "campaign", id: { _ in id.description }, request: request,
            context: context
        ) { tx -> Campaign in
            guard var campaign = try await CampaignStore().find(id: id, forUpdate: true, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            try Preconditions.check(headers, bodyVersion: body.version, current: campaign.version)
            let expected = campaign.version
            guard campaign.status == .draft else {
                throw DomainError.conflict("only a draft can be edited; this campaign is \(campaign.status.rawValue)")
            }
            let (name, list, template, rate, batch) = try await validate(body, in: tx)
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
        return try JSONResponse.make(updated, headers: [.eTag: Preconditions.etag(version: updated.version)])
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsWrite)
        let id = try ID<Campaign>.path(context, entity: "campaign")
        let headers = request.headers
        try await services.audited(
            "messaging.campaign.deleted", target: "campaign", id: { _ in id.description }, request: request,
            context: context
        ) { tx in
            guard let campaign = try await CampaignStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            try Preconditions.check(headers, current: campaign.version)
            guard try await CampaignStore().delete(id: id, in: tx) else {
                throw DomainError.conflict("only a draft can be deleted; this campaign is \(campaign.status.rawValue)")
            }
        }
        return JSONResponse.noContent()
    }

    /// Sends the campaign's template to up to 10 addresses now, as the first list member would see it, with the
    /// subject marked as a test. Test messages are stored as transactional messages (no tracking).
    func testSend(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsSend)
        let body = try await JSONBody.decode(TestBody.self, from: request, context: context)
        return try JSONResponse.make(TestResult(messages: try await testSend(body, request, context)))
    }

    func testSend(_ body: TestBody, _ request: Request, _ context: AppRequestContext) async throws -> [EmailMessage] {
        try context.require(.messagingCampaignsSend)
        let campaign = try await find(context)
        var validation = Validation()
        if body.to.isEmpty || body.to.count > 10 {
            validation.add(FieldIssue(field: "to", code: "invalid_length", message: "1 to 10 addresses"))
        }
        let addresses = body.to.enumerated().compactMap { index, text in
            Check.email(text, field: "to[\(index)]", into: &validation)
        }
        try validation.check()
        let tenant = try context.requireTenant()
        let now = services.clock.now().storedPrecision
        let messages = try await services.audited(
            "messaging.campaign.test_sent", target: "campaign", id: { _ in campaign.id.description },
            details: ["to": .array(addresses.map { .string($0.address) })], request: request, context: context
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
        _ = try await Delivery(services: services).send(messages, tenant: tenant)
        return try await services.database.read(tenant: tenant) { tx in
            var found: [EmailMessage] = []
            for message in messages {
                if let stored = try await MessageStore().find(id: message.id, in: tx) { found.append(stored) }
            }
            return found
        }
    }

    /// Sends now, or at `send_at`: the campaign becomes `sending` (or `scheduled`) and its first batch job is
    /// enqueued in the same transaction.
    func send(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsSend)
        let body = try await JSONBody.decode(ScheduleBody.self, from: request, context: context)
        return try JSONResponse.make(try await send(body, request, context), status: .accepted)
    }

    func send(_ body: ScheduleBody, _ request: Request, _ context: AppRequestContext) async throws -> Campaign {
        try context.require(.messagingCampaignsSend)
        let id = try ID<Campaign>.path(context, entity: "campaign")
        let tenant = try context.requireTenant()
        let now = services.clock.now().storedPrecision
        var sendAt: Date?
        if let text = body.sendAt {
            guard let date = RFC3339.date(from: text) else {
                throw DomainError.validation([
                    FieldIssue(field: "send_at", code: "invalid_format", message: "an RFC 3339 time")
                ])
            }
            sendAt = date > now ? date.storedPrecision : nil
        }
        let at = sendAt
        return try await services.audited(
            at == nil ? "messaging.campaign.sent" : "messaging.campaign.scheduled", target: "campaign",
            id: { _ in id.description }, request: request, context: context
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
                CampaignSender.request(campaign: id, run: run, tenant: tenant, delay: delay), in: tx, now: now)
            try await MessagingEvents.campaign(campaign, in: tx)
            return campaign
        }
    }

    func transition(
        _ request: Request, _ context: AppRequestContext, action: String, from: Set<Campaign.Status>,
        to target: Campaign.Status
    ) async throws -> Response {
        try context.require(.messagingCampaignsSend)
        let id = try ID<Campaign>.path(context, entity: "campaign")
        let tenant = try context.requireTenant()
        let now = services.clock.now().storedPrecision
        let campaign = try await services.audited(
            "messaging.campaign.\(action)", target: "campaign", id: { _ in id.description }, request: request,
            context: context
        ) { tx -> Campaign in
            guard var campaign = try await CampaignStore().find(id: id, forUpdate: true, in: tx) else {
                throw DomainError.notFound(entity: "campaign")
            }
            guard from.contains(campaign.status) else {
                throw DomainError.conflict("this campaign is \(campaign.status.rawValue); it cannot be \(action)")
            }
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
                try await Jobs.enqueue(CampaignSender.request(campaign: id, run: run, tenant: tenant), in: tx, now: now)
            case .cancelled:
                try await CampaignStore().setRun(id: id, token: nil, in: tx)
                try await MessageStore().cancelQueued(campaign: id, in: tx)
            default:
                try await CampaignStore().setRun(id: id, token: nil, in: tx)
            }
            try await MessagingEvents.campaign(campaign, in: tx)
            return campaign
        }
        return try JSONResponse.make(campaign)
    }

    func results(_ context: AppRequestContext) async throws -> CampaignResults {
        let campaign = try await find(context)
        let tenant = try context.requireTenant()
        return try await services.database.read(tenant: tenant) { tx in
            try await MessageStore().results(campaign: campaign.id, in: tx)
        }
    }

    func messages(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let campaign = try await find(context)
        try context.require(.messagingMessagesRead)
        return try await MessageRoutes(services: services).list(request, context, campaign: campaign.id)
    }
}
