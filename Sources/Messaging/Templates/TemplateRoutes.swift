import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/messaging/templates`: create, list, get, update (with optimistic version), delete, and preview with
/// sample data, as JSON (`TemplateService` holds the use cases).
struct TemplateRoutes: Sendable {
    let services: MessagingServices
    var service: TemplateService { TemplateService(services: services) }

    struct PreviewBody: JSONRequestBody {
        let subject: String?
        let html: String?
        let text: String?
        let data: [String: JSONValue]?
        static let fieldNames: Set<String> = ["subject", "html", "text", "data"]
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(MessagingAPI.base)/templates"
        let service = self.service
        routes.get(RouterPath(base)) { request, context in
            try context.require(.messagingTemplatesRead)
            let limit = try request.pageLimit()
            let after = try request.cursorID(EmailTemplate.self)
            let templates = try await service.list(limit: limit + 1, after: after, by: context.caller(request))
            return try JSONResponse.make(Page(overfetched: templates, limit: limit) { $0.id.description })
        }
        routes.post(RouterPath(base)) { request, context in
            try context.require(.messagingTemplatesWrite)
            let input = try await JSONBody.decode(TemplateService.Input.self, from: request, context: context)
            let template = try await service.create(input, by: context.caller(request))
            return try JSONResponse.created(template, location: "\(base)/\(template.id)")
        }
        routes.post("\(base)/preview") { request, context in try await preview(request, context, id: nil) }
        routes.get("\(base)/{id}") { request, context in
            try context.require(.messagingTemplatesRead)
            let template = try await service.find(Self.id(context), by: context.caller(request))
            return try JSONResponse.make(template, headers: [.eTag: Preconditions.etag(version: template.version)])
        }
        routes.put("\(base)/{id}") { request, context in
            try context.require(.messagingTemplatesWrite)
            let input = try await JSONBody.decode(TemplateService.Input.self, from: request, context: context)
            let template = try await service.update(
                Self.id(context), input,
                precondition: Preconditions.of(request, bodyVersion: input.version),
                by: context.caller(request))
            return try JSONResponse.make(template, headers: [.eTag: Preconditions.etag(version: template.version)])
        }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) {
                try context.require(.messagingTemplatesWrite)
                try await service.delete(
                    Self.id(context), precondition: Preconditions.of(request),
                    by: context.caller(request))
                return JSONResponse.noContent()
            }
        }
        routes.post("\(base)/{id}/preview") { request, context in
            try await preview(request, context, id: try Self.id(context))
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<EmailTemplate> {
        try ID<EmailTemplate>.path(context, entity: "template")
    }

    /// Renders a stored template (or the parts in the body) with the body's `data`, without tracking links.
    func preview(_ request: Request, _ context: AppRequestContext, id: ID<EmailTemplate>?) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let body = try await JSONBody.decode(PreviewBody.self, from: request, context: context)
        let tenant = try context.requireTenant()
        var stored: EmailTemplate?
        if let id { stored = try await service.find(id, by: context.caller(request)) }
        let settings = try await services.database.read(tenant: tenant) { tx in try await SettingsStore().get(in: tx) }
        let subject = body.subject ?? stored?.subject ?? ""
        let text = body.text ?? stored?.text ?? ""
        let html = body.html ?? stored?.html
        let compiled: EmailRenderer.Compiled
        do {
            compiled = try EmailRenderer.compile(subject: subject, text: text, html: html)
        } catch {
            throw DomainError.validation([
                FieldIssue(field: error.field, code: "invalid_template", message: error.reason)
            ])
        }
        let sample = EmailMessage(
            id: .generate(), campaignID: nil, contactID: nil, email: "preview@example.com", name: "Preview",
            locale: nil, templateKey: stored?.key ?? "preview", data: .object(body.data ?? [:]), status: .queued,
            attempts: 0, error: nil, subject: nil, createdAt: Date(), sentAt: nil, openedAt: nil, openCount: 0,
            clickedAt: nil, clickCount: 0, unsubscribedAt: nil)
        var variables = MessageComposer.variables(
            for: sample, settings: settings, unsubscribeURL: "\(services.baseURL)/messaging/u/preview")
        for (key, value) in body.data ?? [:] { variables[key] = value }
        return try JSONResponse.make(EmailRenderer.render(compiled, data: variables))
    }
}
