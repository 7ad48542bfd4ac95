import Foundation
import Hummingbird
import Kernel
import Platform

/// Templates: create, list, get, update (with optimistic version), delete, and preview with sample data.
struct TemplateRoutes: Sendable {
    let services: MessagingServices

    struct Body: JSONRequestBody {
        let key: String
        let locale: String?
        let name: String
        let subject: String
        let html: String?
        let text: String
        let version: Int?
        static let fieldNames: Set<String> = ["key", "locale", "name", "subject", "html", "text", "version"]
    }

    struct PreviewBody: JSONRequestBody {
        let subject: String?
        let html: String?
        let text: String?
        let data: [String: JSONValue]?
        static let fieldNames: Set<String> = ["subject", "html", "text", "data"]
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(MessagingAPI.base)/templates"
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.post(RouterPath(base)) { request, context in try await create(request, context) }
        routes.post("\(base)/preview") { request, context in try await preview(request, context, id: nil) }
        routes.get("\(base)/{id}") { _, context in try await get(context) }
        routes.put("\(base)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(base)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
        routes.post("\(base)/{id}/preview") { request, context in
            try await preview(request, context, id: try ID<EmailTemplate>.path(context, entity: "template"))
        }
    }

    /// Validates a body into a template; template syntax errors are field errors.
    static func validate(_ body: Body, id: ID<EmailTemplate>, now: Date, createdAt: Date?) throws -> EmailTemplate {
        var validation = Validation()
        let key = Check.key(body.key, field: "key", into: &validation)
        let locale = Check.locale(body.locale ?? "en", field: "locale", into: &validation) ?? "en"
        let name = Check.text(body.name, field: "name", max: 200, into: &validation)
        if body.subject.isEmpty || body.subject.count > 500 {
            validation.add(FieldIssue(field: "subject", code: "invalid_length", message: "1 to 500 characters"))
        }
        if body.text.isEmpty || body.text.utf8.count > 500_000 {
            validation.add(FieldIssue(field: "text", code: "invalid_length", message: "1 to 500,000 bytes"))
        }
        if let html = body.html, html.utf8.count > 500_000 {
            validation.add(FieldIssue(field: "html", code: "invalid_length", message: "at most 500,000 bytes"))
        }
        do {
            _ = try EmailRenderer.compile(subject: body.subject, text: body.text, html: body.html)
        } catch {
            validation.add(FieldIssue(field: error.field, code: "invalid_template", message: error.reason))
        }
        try validation.check()
        return EmailTemplate(
            id: id, key: key, locale: locale, name: name, subject: body.subject, html: body.html, text: body.text,
            version: 1, createdAt: (createdAt ?? now).storedPrecision, updatedAt: now.storedPrecision)
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingTemplatesWrite)
        let body = try await JSONBody.decode(Body.self, from: request, context: context)
        let template = try await create(body, request, context)
        return try JSONResponse.created(template, location: "\(MessagingAPI.base)/templates/\(template.id)")
    }

    func create(_ body: Body, _ request: Request, _ context: AppRequestContext) async throws -> EmailTemplate {
        try context.require(.messagingTemplatesWrite)
        let template = try Self.validate(body, id: .generate(), now: services.clock.now(), createdAt: nil)
        try await services.audited(
            "messaging.template.created", target: "email_template", id: { _ in template.id.description },
            details: ["key": .string(template.key), "locale": .string(template.locale)], request: request,
            context: context
        ) { tx in
            if try await TemplateStore().keyTaken(key: template.key, locale: template.locale, except: nil, in: tx) {
                throw DomainError.conflict("a template \(template.key) in \(template.locale) exists already")
            }
            try await TemplateStore().insert(template, in: tx)
        }
        return template
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        let after = try request.cursorID(EmailTemplate.self)
        let templates = try await services.database.read(tenant: tenant) { tx in
            try await TemplateStore().list(limit: limit + 1, after: after, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: templates, limit: limit) { $0.id.description })
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let template = try await find(context)
        return try JSONResponse.make(template, headers: [.eTag: Preconditions.etag(version: template.version)])
    }

    func find(_ context: AppRequestContext) async throws -> EmailTemplate {
        let tenant = try context.requireTenant()
        let id = try ID<EmailTemplate>.path(context, entity: "template")
        guard
            let template = try await services.database.read(
                tenant: tenant, { tx in try await TemplateStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "template") }
        return template
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingTemplatesWrite)
        let body = try await JSONBody.decode(Body.self, from: request, context: context)
        let template = try await update(body, request, context)
        return try JSONResponse.make(template, headers: [.eTag: Preconditions.etag(version: template.version)])
    }

    func update(_ body: Body, _ request: Request, _ context: AppRequestContext) async throws -> EmailTemplate {
        try context.require(.messagingTemplatesWrite)
        let id = try ID<EmailTemplate>.path(context, entity: "template")
        let headers = request.headers
        let now = services.clock.now()
        return try await services.audited(
            "messaging.template.updated", target: "email_template", id: { _ in id.description }, request: request,
            context: context
        ) { tx -> EmailTemplate in
            guard let existing = try await TemplateStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "template")
            }
            try Preconditions.check(headers, bodyVersion: body.version, current: existing.version)
            var template = try Self.validate(body, id: id, now: now, createdAt: existing.createdAt)
            if try await TemplateStore().keyTaken(key: template.key, locale: template.locale, except: id, in: tx) {
                throw DomainError.conflict("a template \(template.key) in \(template.locale) exists already")
            }
            guard try await TemplateStore().update(template, expectedVersion: existing.version, in: tx) else {
                throw Preconditions.failed(current: Preconditions.etag(version: existing.version + 1))
            }
            template.version = existing.version + 1
            return template
        }
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingTemplatesWrite)
        let id = try ID<EmailTemplate>.path(context, entity: "template")
        let headers = request.headers
        try await services.audited(
            "messaging.template.deleted", target: "email_template", id: { _ in id.description }, request: request,
            context: context
        ) { tx in
            guard let existing = try await TemplateStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "template")
            }
            try Preconditions.check(headers, current: existing.version)
            guard try await TemplateStore().delete(id: id, in: tx) else {
                throw DomainError.notFound(entity: "template")
            }
        }
        return JSONResponse.noContent()
    }

    /// Renders a stored template (or the parts in the body) with the body's `data`, without tracking links.
    func preview(_ request: Request, _ context: AppRequestContext, id: ID<EmailTemplate>?) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let body = try await JSONBody.decode(PreviewBody.self, from: request, context: context)
        let tenant = try context.requireTenant()
        let stored = id == nil ? nil : try await find(context)
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
