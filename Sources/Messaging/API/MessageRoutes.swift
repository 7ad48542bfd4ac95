import Foundation
import Hummingbird
import Kernel
import Platform

/// Transactional sends, messages and their status, the suppression list and the tenant's sender settings.
struct MessageRoutes: Sendable {
    let services: MessagingServices

    struct SendBody: JSONRequestBody {
        let request: EmailRequest
        static var fieldNames: Set<String> { EmailRequest.fieldNames }
        init(from decoder: any Decoder) throws { request = try EmailRequest(from: decoder) }
    }

    struct SettingsBody: JSONRequestBody {
        let settings: MessagingSettings
        static let fieldNames: Set<String> = ["from_name", "from_address", "reply_to", "default_locale", "brand"]
        init(from decoder: any Decoder) throws { settings = try MessagingSettings(from: decoder) }
    }

    func register(on routes: RouteRegistrar) {
        let messages = "\(MessagingAPI.base)/messages"
        routes.post(RouterPath(messages)) { request, context in try await send(request, context) }
        routes.get(RouterPath(messages)) { request, context in
            try context.require(.messagingMessagesRead)
            return try await list(request, context, campaign: nil)
        }
        routes.get("\(messages)/{id}") { _, context in try await get(context) }
        let suppressions = "\(MessagingAPI.base)/suppressions"
        routes.get(RouterPath(suppressions)) { request, context in try await listSuppressions(request, context) }
        routes.post(RouterPath(suppressions)) { request, context in try await suppress(request, context) }
        routes.delete("\(suppressions)/{email}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await unsuppress(request, context) }
        }
        let settings = "\(MessagingAPI.base)/settings"
        routes.get(RouterPath(settings)) { _, context in try await getSettings(context) }
        routes.put(RouterPath(settings)) { request, context in try await putSettings(request, context) }
    }

    func send(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingMessagesSend)
        let body = try await JSONBody.decode(SendBody.self, from: request, context: context)
        let now = services.clock.now()
        let message = try await services.audited(
            "messaging.message.requested", target: "email_message", id: { $0.id.description },
            details: ["template": .string(body.request.template)], request: request, context: context
        ) { tx in try await TransactionalMail.enqueue(body.request, now: now, in: tx) }
        return try JSONResponse.make(
            message, status: .accepted, headers: [.location: "\(MessagingAPI.base)/messages/\(message.id)"])
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingMessagesRead)
        let tenant = try context.requireTenant()
        let id = try ID<EmailMessage>.path(context, entity: "message")
        guard
            let message = try await services.database.read(
                tenant: tenant, { tx in try await MessageStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "message") }
        return try JSONResponse.make(message)
    }

    func list(_ request: Request, _ context: AppRequestContext, campaign: ID<Campaign>?) async throws -> Response {
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let before = try request.cursorID(EmailMessage.self)
        var status: EmailMessage.Status?
        if let text = request.query("status") {
            guard let parsed = EmailMessage.Status(rawValue: text) else {
                throw Problem(
                    status: .badRequest, detail: "status is one of \(EmailMessage.Status.allCases.map(\.rawValue))")
            }
            status = parsed
        }
        let filter = status
        let messages = try await services.database.read(tenant: tenant) { tx in
            try await MessageStore().list(campaign: campaign, status: filter, limit: limit + 1, before: before, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: messages, limit: limit) { $0.id.description })
    }

    func listSuppressions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingSuppressionsRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorPosition()
        var reason: Suppression.Reason?
        if let text = request.query("reason") {
            guard let parsed = Suppression.Reason(rawValue: text) else {
                throw Problem(
                    status: .badRequest, detail: "reason is one of \(Suppression.Reason.allCases.map(\.rawValue))")
            }
            reason = parsed
        }
        let filter = reason
        let entries = try await services.database.read(tenant: tenant) { tx in
            try await SuppressionStore().list(limit: limit + 1, after: after, reason: filter, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: entries, limit: limit) { $0.email })
    }

    func suppress(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingSuppressionsWrite)
        let body = try await JSONBody.decode(SuppressionService.Input.self, from: request, context: context)
        let entry = try await SuppressionService(services: services).add(body, by: context.caller(request))
        let path = entry.email.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? entry.email
        return try JSONResponse.created(entry, location: "\(MessagingAPI.base)/suppressions/\(path)")
    }

    func unsuppress(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingSuppressionsWrite)
        guard let email = context.parameters.get("email")?.removingPercentEncoding else {
            throw DomainError.notFound(entity: "suppression")
        }
        try await SuppressionService(services: services).remove(email, requireListed: true, by: context.caller(request))
        return JSONResponse.noContent()
    }

    func getSettings(_ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let tenant = try context.requireTenant()
        let settings = try await services.database.read(tenant: tenant) { tx in try await SettingsStore().get(in: tx) }
        return try JSONResponse.make(settings)
    }

    func putSettings(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingSettingsWrite)
        let settings = try await JSONBody.decode(SettingsBody.self, from: request, context: context).settings
        var validation = Validation()
        if let from = settings.fromAddress { _ = Check.email(from, field: "from_address", into: &validation) }
        if let replyTo = settings.replyTo { _ = Check.email(replyTo, field: "reply_to", into: &validation) }
        if let name = settings.fromName, name.isEmpty || name.count > 200 || name.contains(where: \.isNewline) {
            validation.add(
                FieldIssue(field: "from_name", code: "invalid_value", message: "1 to 200 characters, one line"))
        }
        _ = Check.locale(settings.defaultLocale, field: "default_locale", into: &validation)
        if let color = settings.brand.color,
            !(color.count == 7 && color.hasPrefix("#") && color.dropFirst().allSatisfy(\.isHexDigit))
        {
            validation.add(FieldIssue(field: "brand.color", code: "invalid_format", message: "#rrggbb"))
        }
        if let logo = settings.brand.logoURL, !(logo.hasPrefix("https://") || logo.hasPrefix("http://")) {
            validation.add(FieldIssue(field: "brand.logo_url", code: "invalid_format", message: "an http(s) URL"))
        }
        try validation.check()
        let now = services.clock.now()
        try await services.audited(
            "messaging.settings.updated", target: "messaging_settings", id: { _ in nil }, request: request,
            context: context
        ) { tx in try await SettingsStore().put(settings, now: now, in: tx) }
        return try JSONResponse.make(settings)
    }
}
