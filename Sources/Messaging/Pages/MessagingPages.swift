import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// The Messaging web app: campaigns (create, test, schedule, send, pause, resume, cancel, results), templates
/// (edit with a live preview) and the suppression list. Pages post plain forms to actions that call the JSON
/// API's code, so permissions, validation and audit are the same; a missing permission is a 403 page.
struct MessagingPages: Sendable {
    let services: MessagingServices
    let web: WebKit

    func register(on routes: RouteRegistrar) {
        routes.get("/messaging") { _, _ in PageResponses.redirect("/messaging/campaigns") }
        routes.get("/messaging/campaigns") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await campaigns(request, context, issues: [])
            }
        }
        routes.post("/messaging/campaigns") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createCampaign(request, context) }
        }
        routes.get("/messaging/campaigns/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await campaign(request, context, notice: nil)
            }
        }
        routes.post("/messaging/campaigns/{id}/{action}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await campaignAction(request, context) }
        }
        routes.get("/messaging/templates") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await templates(request, context, issues: [])
            }
        }
        routes.post("/messaging/templates") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await createTemplate(request, context) }
        }
        routes.get("/messaging/templates/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await template(request, context, issues: [], saved: false)
            }
        }
        routes.post("/messaging/templates/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await saveTemplate(request, context) }
        }
        routes.get("/messaging/suppressions") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await suppressions(request, context, issues: [])
            }
        }
        routes.post("/messaging/suppressions") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await addSuppression(request, context) }
        }
        routes.post("/messaging/suppressions/remove") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await removeSuppression(request, context) }
        }
        WebhookPages(services: services, pages: self).register(on: routes)
        OperationsPages(services: services, pages: self).register(on: routes)
        ListPages(services: services, pages: self).register(on: routes)
    }

    func frame(
        _ request: Request, _ context: AppRequestContext, item: String, title: String? = nil,
        status: HTTPResponse.Status = .ok, _ content: @escaping (Localizer) -> HTML
    ) -> Response {
        var response = web.page(
            request: request, context: context, status: status, title: { t in title ?? t("messaging.\(item)") }
        ) { chrome in
            let t = chrome.t
            let links = ["campaigns", "templates", "lists", "suppressions", "webhooks", "jobs", "dead-letters"].map {
                entry -> HTML in
                let marker: HTML = entry == item ? #" aria-current="page""# : ""
                return #"<li><a href="/messaging/\#(entry)"\#(marker)>\#(t("messaging.\(entry)"))</a></li>"#
            }
            let script: HTML =
                #"<script src="\#(chrome.assets.path("messaging.js"))" nonce="\#(chrome.nonce)" defer></script>"#
            return """
                <section class="section"><nav aria-label="\(t("messaging.title"))"><ul class="admin-menu">\(links)</ul></nav>
                <h1>\(title ?? t("messaging.\(item)"))</h1>\(content(t))</section>\(script)
                """
        }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    static func table(_ id: String, headers: [String], rows: [[HTML]], empty: String) -> HTML {
        guard !rows.isEmpty else { return #"<p class="empty-state" id="\#(id)">\#(empty)</p>"# }
        let head = headers.map { header -> HTML in "<th scope=\"col\">\(header)</th>" }
        let body = rows.map { cells -> HTML in "<tr>\(cells.map { cell -> HTML in "<td>\(cell)</td>" })</tr>" }
        return
            "<div class=\"table-wrap\"><table class=\"table\" id=\"\(id)\"><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    static func field(
        _ name: String, label: String, type: String = "text", value: String = "", issues: [FieldIssue],
        required: Bool = true, extra: HTML = ""
    ) -> HTML {
        let own = issues.filter { $0.field == name }
        let error: HTML =
            own.isEmpty
            ? "" : #"<p class="field-error" id="\#(name)-error">\#(own.map(\.message).joined(separator: "; "))</p>"#
        let invalid: HTML = own.isEmpty ? "" : #" aria-invalid="true" aria-describedby="\#(name)-error""#
        let requiredAttribute: HTML = required ? " required" : ""
        return """
            <div class="field"><label for="\(name)">\(label)</label>
            <input id="\(name)" name="\(name)" type="\(type)" value="\(value)"\(requiredAttribute)\(invalid)\(extra)>\(error)</div>
            """
    }

    static func area(_ name: String, label: String, value: String, issues: [FieldIssue], required: Bool = true)
        -> HTML
    {
        let own = issues.filter { $0.field == name }
        let error: HTML =
            own.isEmpty
            ? "" : #"<p class="field-error" id="\#(name)-error">\#(own.map(\.message).joined(separator: "; "))</p>"#
        let invalid: HTML = own.isEmpty ? "" : #" aria-invalid="true" aria-describedby="\#(name)-error""#
        let requiredAttribute: HTML = required ? " required" : ""
        return """
            <div class="field"><label for="\(name)">\(label)</label>
            <textarea id="\(name)" name="\(name)" rows="8" data-preview-source\(requiredAttribute)\(invalid)>\(value)</textarea>\(error)</div>
            """
    }

    static func alert(_ text: String?, kind: String = "danger") -> HTML {
        guard let text else { return "" }
        return #"<p class="alert alert-\#(kind)" role="\#(kind == "danger" ? "alert" : "status")">\#(text)</p>"#
    }

    /// The field issues of a refused action, or one message for other refusals; anything else is rethrown.
    static func issues(of error: any Error) throws -> [FieldIssue] {
        switch error {
        case DomainError.validation(let issues): return issues
        case DomainError.conflict(let detail), DomainError.forbidden(let detail):
            return [FieldIssue(field: "", code: "refused", message: detail)]
        case let problem as Problem where problem.status.code < 500:
            return problem.errors ?? [FieldIssue(field: "", code: "refused", message: problem.detail ?? "")]
        default: throw error
        }
    }

    static func general(_ issues: [FieldIssue]) -> HTML {
        let messages = issues.filter { $0.field.isEmpty }.map(\.message)
        return messages.isEmpty ? "" : alert(messages.joined(separator: "; "))
    }

    static func date(_ date: Date?) -> String { date.map { RFC3339.string(from: $0) } ?? "—" }

    // MARK: campaigns

    func campaigns(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        try context.require(.messagingCampaignsRead)
        let tenant = try context.requireTenant()
        let (campaigns, lists, templates) = try await services.database.read(tenant: tenant) { tx in
            (
                try await CampaignStore().list(limit: 100, after: nil, status: nil, in: tx),
                try await ListStore().list(limit: 200, after: nil, in: tx),
                try await TemplateStore().list(limit: 200, after: nil, in: tx)
            )
        }
        return frame(request, context, item: "campaigns", status: issues.isEmpty ? .ok : .unprocessableContent) { t in
            let rows = campaigns.map { campaign -> [HTML] in
                [
                    #"<a href="/messaging/campaigns/\#(campaign.id.description)">\#(campaign.name)</a>"#,
                    "\(t("messaging.status.\(campaign.status.rawValue)"))", "\(Self.date(campaign.scheduledAt))",
                    "\(Self.date(campaign.finishedAt))",
                ]
            }
            let listOptions = lists.map { list -> HTML in
                #"<option value="\#(list.id.description)">\#(list.name)</option>"#
            }
            let keys = Array(Set(templates.map(\.key))).sorted()
            let templateOptions = keys.map { key -> HTML in #"<option value="\#(key)">\#(key)</option>"# }
            let form: HTML = """
                <form class="form" method="post" action="/messaging/campaigns">\(Self.general(issues))
                \(Self.field("name", label: t("messaging.name"), issues: issues))
                <div class="field"><label for="list_id">\(t("messaging.list"))</label><select id="list_id" name="list_id" required>\(listOptions)</select></div>
                <div class="field"><label for="template_key">\(t("messaging.template"))</label><select id="template_key" name="template_key" required>\(templateOptions)</select></div>
                \(Self.field("rate_per_minute", label: t("messaging.rate"), type: "number", value: "600", issues: issues))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.create"))</button></div></form>
                """
            return """
                \(Self.table("campaigns", headers: [t("messaging.name"), t("messaging.status"), t("messaging.scheduled"), t("messaging.finished")], rows: rows, empty: t("messaging.campaigns.empty")))
                <h2>\(t("messaging.campaigns.new"))</h2>\(form)
                """
        }
    }

    func createCampaign(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let input = CampaignService.Input(
            name: form["name"] ?? "", listID: form["list_id"] ?? "", templateKey: form["template_key"] ?? "",
            ratePerMinute: form["rate_per_minute"].flatMap { Int($0) }, batchSize: nil, version: nil)
        do {
            let campaign = try await CampaignService(services: services).create(input, by: context.caller(request))
            return PageResponses.redirect("/messaging/campaigns/\(campaign.id)")
        } catch {
            return try await campaigns(request, context, issues: try Self.issues(of: error))
        }
    }

    func campaign(_ request: Request, _ context: AppRequestContext, notice: String?, issues: [FieldIssue] = [])
        async throws -> Response
    {
        let service = CampaignService(services: services)
        let id = try ID<Campaign>.path(context, entity: "campaign")
        let campaign = try await service.find(id, by: context.caller(request))
        let results = try await service.results(id, by: context.caller(request))
        return frame(request, context, item: "campaigns", title: campaign.name) { t in
            let counts: [(String, Int)] = [
                ("recipients", results.recipients), ("delivered", results.sent), ("opened", results.opened),
                ("clicked", results.clicked), ("bounced", results.bounced), ("unsubscribed", results.unsubscribed),
                ("suppressed", results.suppressed), ("failed", results.failed), ("queued", results.queued),
            ]
            let stats = counts.map { name, value -> HTML in
                #"<div class="stat" data-count="\#(name)"><dt>\#(t("messaging.results." + name))</dt><dd>\#(String(value))</dd></div>"#
            }
            let path = "/messaging/campaigns/\(campaign.id)"
            func button(_ action: String) -> HTML {
                #"<form method="post" action="\#(path)/\#(action)"><button class="button" type="submit">\#(t("messaging.action." + action))</button></form>"#
            }
            var actions: [HTML] = []
            switch campaign.status {
            case .draft: actions = [button("send"), button("cancel")]
            case .scheduled: actions = [button("pause"), button("cancel")]
            case .sending: actions = [button("pause"), button("cancel")]
            case .paused: actions = [button("resume"), button("cancel")]
            case .sent, .cancelled: actions = []
            }
            let schedule: HTML =
                campaign.status == .draft
                ? """
                <form class="form" method="post" action="\(path)/schedule">
                \(Self.field("send_at", label: t("messaging.send_at"), type: "datetime-local", issues: issues))
                <input type="hidden" name="offset" value="0" data-timezone-offset>
                <div class="form-actions"><button class="button" type="submit">\(t("messaging.action.schedule"))</button></div></form>
                <form class="form" method="post" action="\(path)/test">
                \(Self.field("to", label: t("messaging.test_to"), type: "email", issues: issues))
                <div class="form-actions"><button class="button" type="submit">\(t("messaging.action.test"))</button></div></form>
                """ : ""
            return """
                \(Self.alert(notice.map { t($0) }, kind: "success"))\(Self.general(issues))
                <p>\(t("messaging.status")): <strong data-status>\(t("messaging.status.\(campaign.status.rawValue)"))</strong>
                · \(t("messaging.template")): \(campaign.templateKey) · \(t("messaging.rate")): \(String(campaign.ratePerMinute))</p>
                <h2>\(t("messaging.results"))</h2><dl class="stats" id="results" data-live-campaign="\(campaign.id.description)" data-campaign-status="\(campaign.status.rawValue)">\(stats)</dl>
                <div class="form-actions">\(actions)</div>\(schedule)
                """
        }
    }

    func campaignAction(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let action = context.parameters.get("action") ?? ""
        let service = CampaignService(services: services)
        let id = try ID<Campaign>.path(context, entity: "campaign")
        let caller = try context.caller(request)
        let form = try await FormBody.decode(request, context: context)
        do {
            switch action {
            case "send":
                _ = try await service.send(id, at: nil, by: caller)
            case "schedule":
                // `datetime-local` has no zone: the page's script adds the browser's offset (minutes behind UTC).
                let local = form["send_at"] ?? ""
                let offset = Int(form["offset"] ?? "0") ?? 0
                guard let date = Self.parseLocal(local, offsetMinutes: offset) else {
                    throw DomainError.validation([
                        FieldIssue(field: "send_at", code: "invalid_format", message: "a date and time")
                    ])
                }
                _ = try await service.send(id, at: RFC3339.string(from: date), by: caller)
            case "test":
                _ = try await service.testSend(id, to: [form["to"] ?? ""], by: caller)
                return try await campaign(request, context, notice: "messaging.test_sent")
            case "pause": _ = try await service.apply(.pause, to: id, by: caller)
            case "resume": _ = try await service.apply(.resume, to: id, by: caller)
            case "cancel": _ = try await service.apply(.cancel, to: id, by: caller)
            default:
                throw DomainError.notFound(entity: "action")
            }
        } catch {
            return try await campaign(request, context, notice: nil, issues: try Self.issues(of: error))
        }
        return PageResponses.redirect("/messaging/campaigns/\(context.parameters.get("id") ?? "")")
    }

    static func parseLocal(_ text: String, offsetMinutes: Int) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                return date.addingTimeInterval(TimeInterval(offsetMinutes * 60))
            }
        }
        return nil
    }

    // MARK: templates

    func templates(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let tenant = try context.requireTenant()
        let templates = try await services.database.read(tenant: tenant) { tx in
            try await TemplateStore().list(limit: 200, after: nil, in: tx)
        }
        return frame(request, context, item: "templates", status: issues.isEmpty ? .ok : .unprocessableContent) { t in
            let rows = templates.map { template -> [HTML] in
                [
                    #"<a href="/messaging/templates/\#(template.id.description)">\#(template.name)</a>"#,
                    "\(template.key)", "\(template.locale)", "\(Self.date(template.updatedAt))",
                ]
            }
            let form: HTML = """
                <form class="form" method="post" action="/messaging/templates">\(Self.general(issues))
                \(Self.field("name", label: t("messaging.name"), issues: issues))
                \(Self.field("key", label: t("messaging.key"), issues: issues))
                \(Self.field("locale", label: t("messaging.locale"), value: "en", issues: issues))
                \(Self.field("subject", label: t("messaging.subject"), issues: issues))
                \(Self.area("text", label: t("messaging.text"), value: "", issues: issues))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.create"))</button></div></form>
                """
            return """
                \(Self.table("templates", headers: [t("messaging.name"), t("messaging.key"), t("messaging.locale"), t("messaging.updated")], rows: rows, empty: t("messaging.templates.empty")))
                <h2>\(t("messaging.templates.new"))</h2>\(form)
                """
        }
    }

    func createTemplate(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let body = TemplateService.Input(
            key: form["key"] ?? "", locale: form["locale"].flatMap { $0.isEmpty ? nil : $0 }, name: form["name"] ?? "",
            subject: form["subject"] ?? "", html: form["html"].flatMap { $0.isEmpty ? nil : $0 },
            text: form["text"] ?? "", version: nil)
        do {
            let template = try await TemplateService(services: services).create(body, by: context.caller(request))
            return PageResponses.redirect("/messaging/templates/\(template.id)")
        } catch {
            return try await templates(request, context, issues: try Self.issues(of: error))
        }
    }

    func template(
        _ request: Request, _ context: AppRequestContext, issues: [FieldIssue], saved: Bool,
        edited: TemplateService.Input? = nil
    ) async throws -> Response {
        try context.require(.messagingTemplatesRead)
        let template = try await TemplateService(services: services).find(
            ID<EmailTemplate>.path(context, entity: "template"), by: context.caller(request))
        let tenant = try context.requireTenant()
        let settings = try await services.database.read(tenant: tenant) { tx in try await SettingsStore().get(in: tx) }
        let subject = edited?.subject ?? template.subject
        let text = edited?.text ?? template.text
        let html = edited?.html ?? template.html ?? ""
        // The first preview is rendered here; the page's script refreshes it as the fields change.
        var preview: RenderedEmail?
        if let compiled = try? EmailRenderer.compile(subject: subject, text: text, html: html.isEmpty ? nil : html) {
            let sample = MessageComposer.variables(
                for: EmailMessage(
                    id: .generate(), campaignID: nil, contactID: nil, email: "preview@example.com", name: "Preview",
                    locale: nil, templateKey: template.key, data: .object([:]), status: .queued, attempts: 0,
                    error: nil, subject: nil, createdAt: Date(), sentAt: nil, openedAt: nil, openCount: 0,
                    clickedAt: nil, clickCount: 0, unsubscribedAt: nil),
                settings: settings, unsubscribeURL: "\(services.baseURL)/messaging/u/preview")
            preview = EmailRenderer.render(compiled, data: sample)
        }
        return frame(
            request, context, item: "templates", title: template.name,
            status: issues.isEmpty ? .ok : .unprocessableContent
        ) { t in
            let previewHTML = preview?.html ?? "<pre>\(HTML.escape(preview?.text ?? ""))</pre>"
            return """
                \(Self.alert(saved ? t("messaging.saved") : nil, kind: "success"))\(Self.general(issues))
                <div class="editor"><form class="form" method="post" action="/messaging/templates/\(template.id.description)" data-preview-form data-preview-url="/api/v1/messaging/templates/preview">
                <input type="hidden" name="version" value="\(String(template.version))">
                \(Self.field("name", label: t("messaging.name"), value: edited?.name ?? template.name, issues: issues))
                \(Self.field("key", label: t("messaging.key"), value: edited?.key ?? template.key, issues: issues))
                \(Self.field("locale", label: t("messaging.locale"), value: edited?.locale ?? template.locale, issues: issues))
                \(Self.field("subject", label: t("messaging.subject"), value: subject, issues: issues, extra: " data-preview-source"))
                \(Self.area("html", label: t("messaging.html"), value: html, issues: issues, required: false))
                \(Self.area("text", label: t("messaging.text"), value: text, issues: issues))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.save"))</button></div></form>
                <section aria-label="\(t("messaging.preview"))"><h2>\(t("messaging.preview"))</h2>
                <p><strong data-preview-subject>\(preview?.subject ?? "")</strong></p>
                <iframe title="\(t("messaging.preview"))" sandbox="" data-preview-frame srcdoc="\(previewHTML)"></iframe>
                <p class="field-error" data-preview-error role="status"></p></section></div>
                """
        }
    }

    func saveTemplate(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let body = TemplateService.Input(
            key: form["key"] ?? "", locale: form["locale"], name: form["name"] ?? "", subject: form["subject"] ?? "",
            html: form["html"].flatMap { $0.isEmpty ? nil : $0 }, text: form["text"] ?? "",
            version: form["version"].flatMap { Int($0) })
        do {
            _ = try await TemplateService(services: services).update(
                ID<EmailTemplate>.path(context, entity: "template"), body,
                precondition: Preconditions.of(request, bodyVersion: body.version),
                by: context.caller(request))
            return try await template(request, context, issues: [], saved: true)
        } catch {
            return try await template(request, context, issues: try Self.issues(of: error), saved: false, edited: body)
        }
    }

    // MARK: suppressions

    func suppressions(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        try context.require(.messagingSuppressionsRead)
        let tenant = try context.requireTenant()
        let after = request.query("after")
        let entries = try await services.database.read(tenant: tenant) { tx in
            try await SuppressionStore().list(limit: 101, after: after, reason: nil, in: tx)
        }
        return frame(request, context, item: "suppressions", status: issues.isEmpty ? .ok : .unprocessableContent) {
            t in
            let rows = entries.prefix(100).map { entry -> [HTML] in
                [
                    "\(entry.email)", "\(t("messaging.reason.\(entry.reason.rawValue)"))", "\(entry.detail ?? "")",
                    "\(Self.date(entry.createdAt))",
                    #"<form method="post" action="/messaging/suppressions/remove"><input type="hidden" name="email" value="\#(entry.email)"><button class="button" type="submit">\#(t("messaging.remove"))</button></form>"#,
                ]
            }
            let more: HTML =
                entries.count > 100
                ? #"<p><a href="/messaging/suppressions?after=\#(entries[99].email)">\#(t("messaging.more"))</a></p>"#
                : ""
            let reasons = Suppression.Reason.allCases.map { reason -> HTML in
                let selected: HTML = reason == .manual ? " selected" : ""
                return
                    #"<option value="\#(reason.rawValue)"\#(selected)>\#(t("messaging.reason." + reason.rawValue))</option>"#
            }
            let form: HTML = """
                <form class="form" method="post" action="/messaging/suppressions">\(Self.general(issues))
                \(Self.field("email", label: t("messaging.email"), type: "email", issues: issues))
                <div class="field"><label for="reason">\(t("messaging.reason"))</label><select id="reason" name="reason">\(reasons)</select></div>
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.add"))</button></div></form>
                """
            return """
                \(Self.table("suppressions", headers: [t("messaging.email"), t("messaging.reason"), t("messaging.detail"), t("messaging.added"), ""], rows: Array(rows), empty: t("messaging.suppressions.empty")))\(more)
                <h2>\(t("messaging.suppressions.new"))</h2>\(form)
                """
        }
    }

    func addSuppression(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let body = SuppressionService.Input(
            email: form["email"] ?? "", reason: form["reason"].flatMap(Suppression.Reason.init(rawValue:)), detail: nil)
        do {
            _ = try await SuppressionService(services: services).add(body, by: context.caller(request))
            return PageResponses.redirect("/messaging/suppressions")
        } catch {
            return try await suppressions(request, context, issues: try Self.issues(of: error))
        }
    }

    func removeSuppression(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.messagingSuppressionsWrite)
        let form = try await FormBody.decode(request, context: context)
        try await SuppressionService(services: services).remove(
            form["email"] ?? "", requireListed: false, by: context.caller(request))
        return PageResponses.redirect("/messaging/suppressions")
    }
}
