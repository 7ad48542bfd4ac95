import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/messaging/campaigns`: drafts, test sends, scheduling and sending, pause, resume, cancel, results and
/// messages, as JSON (`CampaignService` holds the use cases).
struct CampaignRoutes: Sendable {
    let services: MessagingServices
    var service: CampaignService { CampaignService(services: services) }

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
        let service = self.service
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.post(RouterPath(base)) { request, context in
            try context.require(.messagingCampaignsWrite)
            let input = try await JSONBody.decode(CampaignService.Input.self, from: request, context: context)
            let campaign = try await service.create(input, by: context.caller(request))
            return try JSONResponse.created(campaign, location: "\(base)/\(campaign.id)")
        }
        routes.get("\(base)/{id}") { request, context in
            let campaign = try await service.find(Self.id(context), by: context.caller(request))
            return try JSONResponse.make(campaign, headers: [.eTag: Preconditions.etag(version: campaign.version)])
        }
        routes.put("\(base)/{id}") { request, context in
            try context.require(.messagingCampaignsWrite)
            let id = try Self.id(context)
            let input = try await JSONBody.decode(CampaignService.Input.self, from: request, context: context)
            let updated = try await service.update(
                id, input, precondition: Preconditions.of(request, bodyVersion: input.version),
                by: context.caller(request))
            return try JSONResponse.make(updated, headers: [.eTag: Preconditions.etag(version: updated.version)])
        }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try context.require(.messagingCampaignsWrite)
                try await service.delete(
                    Self.id(context), precondition: Preconditions.of(request),
                    by: context.caller(request))
                return JSONResponse.noContent()
            }
        }
        routes.post("\(base)/{id}/test") { request, context in
            try context.require(.messagingCampaignsSend)
            let body = try await JSONBody.decode(TestBody.self, from: request, context: context)
            let messages = try await service.testSend(Self.id(context), to: body.to, by: context.caller(request))
            return try JSONResponse.make(TestResult(messages: messages))
        }
        routes.post("\(base)/{id}/send") { request, context in
            try context.require(.messagingCampaignsSend)
            let body = try await JSONBody.decode(ScheduleBody.self, from: request, context: context)
            let campaign = try await service.send(Self.id(context), at: body.sendAt, by: context.caller(request))
            return try JSONResponse.make(campaign, status: .accepted)
        }
        for (path, transition) in [
            ("pause", CampaignService.Transition.pause), ("resume", .resume), ("cancel", .cancel),
        ] {
            routes.post("\(base)/{id}/\(path)") { request, context in
                try await JSONBody.requireNone(request, context: context)
                return try JSONResponse.make(
                    try await service.apply(transition, to: Self.id(context), by: context.caller(request)))
            }
        }
        routes.get("\(base)/{id}/results") { request, context in
            try JSONResponse.make(try await service.results(Self.id(context), by: context.caller(request)))
        }
        routes.get("\(base)/{id}/messages") { request, context in
            let campaign = try await service.find(Self.id(context), by: context.caller(request))
            try context.require(.messagingMessagesRead)
            return try await MessageRoutes(services: services).list(request, context, campaign: campaign.id)
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<Campaign> {
        try ID<Campaign>.path(context, entity: "campaign")
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingCampaignsRead)
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
        let campaigns = try await service.list(
            status: status, limit: limit + 1, after: after, by: context.caller(request))
        return try JSONResponse.make(Page(overfetched: campaigns, limit: limit) { $0.id.description })
    }
}
