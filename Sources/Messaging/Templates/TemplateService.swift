import Foundation
import Kernel
import Platform

/// Templates' use cases, for the API and the pages: create, list, find, change (optimistic version), delete.
struct TemplateService: Sendable {
    let services: MessagingServices

    /// A template's fields (the JSON body of `POST`/`PUT /templates`; `version` optional, as `If-Match`).
    struct Input: JSONRequestBody {
        let key: String
        let locale: String?
        let name: String
        let subject: String
        let html: String?
        let text: String
        let version: Int?
        static let fieldNames: Set<String> = ["key", "locale", "name", "subject", "html", "text", "version"]
    }

    /// Validates a body into a template; template syntax errors are field errors.
    static func validate(_ body: Input, id: ID<EmailTemplate>, now: Date, createdAt: Date?) throws -> EmailTemplate {
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

    func create(_ input: Input, by caller: Caller) async throws -> EmailTemplate {
        try caller.require(.messagingTemplatesWrite)
        let now = services.clock.now()
        let template = try Self.validate(input, id: .generate(), now: now, createdAt: nil)
        try await services.database.audited(
            "messaging.template.created", target: "email_template", id: { _ in template.id.description },
            details: { _ in ["key": .string(template.key), "locale": .string(template.locale)] }, at: now, by: caller
        ) { tx in
            if try await TemplateStore().keyTaken(key: template.key, locale: template.locale, except: nil, in: tx) {
                throw DomainError.conflict("a template \(template.key) in \(template.locale) exists already")
            }
            try await TemplateStore().insert(template, in: tx)
        }
        return template
    }

    /// A page of templates.
    func list(limit: Int, after: ID<EmailTemplate>?, by caller: Caller) async throws -> [EmailTemplate] {
        try caller.require(.messagingTemplatesRead)
        return try await services.database.read(tenant: caller.tenant) { tx in
            try await TemplateStore().list(limit: limit, after: after, in: tx)
        }
    }

    func find(_ id: ID<EmailTemplate>, by caller: Caller) async throws -> EmailTemplate {
        try caller.require(.messagingTemplatesRead)
        guard
            let template = try await services.database.read(
                tenant: caller.tenant, { tx in try await TemplateStore().find(id: id, in: tx) })
        else { throw DomainError.notFound(entity: "template") }
        return template
    }

    /// Changes a template; `precondition` checks the stored version (the request's `If-Match` or body `version`).
    func update(
        _ id: ID<EmailTemplate>, _ input: Input, precondition: @escaping @Sendable (Int) throws -> Void,
        by caller: Caller
    ) async throws -> EmailTemplate {
        try caller.require(.messagingTemplatesWrite)
        let now = services.clock.now()
        return try await services.database.audited(
            "messaging.template.updated", target: "email_template", id: { _ in id.description }, at: now, by: caller
        ) { tx -> EmailTemplate in
            guard let existing = try await TemplateStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "template")
            }
            try precondition(existing.version)
            var template = try Self.validate(input, id: id, now: now, createdAt: existing.createdAt)
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

    /// Deletes a template; `precondition` as for `update`.
    func delete(_ id: ID<EmailTemplate>, precondition: @escaping @Sendable (Int) throws -> Void, by caller: Caller)
        async throws
    {
        try caller.require(.messagingTemplatesWrite)
        try await services.database.audited(
            "messaging.template.deleted", target: "email_template", id: { _ in id.description },
            at: services.clock.now(), by: caller
        ) { tx in
            guard let existing = try await TemplateStore().find(id: id, in: tx) else {
                throw DomainError.notFound(entity: "template")
            }
            try precondition(existing.version)
            guard try await TemplateStore().delete(id: id, in: tx) else {
                throw DomainError.notFound(entity: "template")
            }
        }
    }
}
