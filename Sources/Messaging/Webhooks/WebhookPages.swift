import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Webhook endpoints in the Messaging web app: list and add, and per endpoint its settings, secret rotation,
/// enabling and disabling, and the delivery log with each try's answer and a retry.
struct WebhookPages: Sendable {
    let services: MessagingServices
    let pages: MessagingPages

    func register(on routes: RouteRegistrar) {
        routes.get("/messaging/webhooks") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await endpoints(request, context, issues: [], secret: nil)
            }
        }
        routes.post("/messaging/webhooks") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await create(request, context) }
        }
        routes.get("/messaging/webhooks/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await endpoint(request, context, notice: nil, secret: nil)
            }
        }
        routes.post("/messaging/webhooks/{id}/{action}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await action(request, context) }
        }
        routes.post("/messaging/webhooks/{id}/deliveries/{delivery}/retry") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                do {
                    _ = try await WebhookService(services: services).retry(
                        ID<WebhookDelivery>.path(context, "delivery", entity: "delivery"),
                        of: ID<WebhookEndpoint>.path(context, entity: "webhook endpoint"), by: context.caller(request))
                    return PageResponses.redirect("/messaging/webhooks/\(context.parameters.get("id") ?? "")")
                } catch {
                    return try await endpoint(
                        request, context, notice: nil, secret: nil, issues: try MessagingPages.issues(of: error))
                }
            }
        }
    }

    func endpoints(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue], secret: String?)
        async throws -> Response
    {
        try context.require(.messagingWebhooksRead)
        let tenant = try context.requireTenant()
        let endpoints = try await services.database.read(tenant: tenant) { tx in
            try await WebhookStore().list(limit: 200, after: nil, in: tx)
        }
        return pages.frame(request, context, item: "webhooks", status: issues.isEmpty ? .ok : .unprocessableContent) {
            t in
            let rows = endpoints.map { endpoint -> [HTML] in
                [
                    #"<a href="/messaging/webhooks/\#(endpoint.id.description)">\#(endpoint.url)</a>"#,
                    "\(endpoint.eventTypes.joined(separator: ", "))",
                    "\(t("messaging.webhook.\(endpoint.status.rawValue)"))",
                ]
            }
            let form: HTML = """
                <form class="form" method="post" action="/messaging/webhooks">\(MessagingPages.general(issues))
                \(MessagingPages.field("url", label: t("messaging.webhook.url"), type: "url", issues: issues))
                \(MessagingPages.field("event_types", label: t("messaging.webhook.event_types"), value: "*", issues: issues))
                \(MessagingPages.field("description", label: t("messaging.detail"), issues: issues, required: false))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.add"))</button></div></form>
                """
            return """
                \(MessagingPages.table("webhooks", headers: [t("messaging.webhook.url"), t("messaging.webhook.event_types"), t("messaging.status")], rows: rows, empty: t("messaging.webhooks.empty")))
                <h2>\(t("messaging.webhooks.new"))</h2>\(form)
                """
        }
    }

    static func id(_ context: AppRequestContext) throws -> ID<WebhookEndpoint> {
        try ID<WebhookEndpoint>.path(context, entity: "webhook endpoint")
    }

    static func types(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init)
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.decode(request, context: context)
        let body = WebhookService.Input(
            url: form["url"] ?? "", description: form["description"], eventTypes: Self.types(form["event_types"] ?? ""),
            status: nil, version: nil)
        do {
            let created = try await WebhookService(services: services).create(body, by: context.caller(request))
            return try await endpoint(
                request, context, notice: "messaging.webhook.created", secret: created.secret, shown: created.endpoint)
        } catch {
            return try await endpoints(request, context, issues: try MessagingPages.issues(of: error), secret: nil)
        }
    }

    func endpoint(
        _ request: Request, _ context: AppRequestContext, notice: String?, secret: String?, issues: [FieldIssue] = [],
        shown: WebhookEndpoint? = nil
    ) async throws -> Response {
        let endpoint: WebhookEndpoint
        if let shown {
            endpoint = shown
        } else {
            endpoint = try await WebhookService(services: services).find(
                ID<WebhookEndpoint>.path(context, entity: "webhook endpoint"), by: context.caller(request))
        }
        let tenant = try context.requireTenant()
        let deliveries = try await services.database.read(tenant: tenant) { tx in
            try await WebhookStore().deliveries(endpoint: endpoint.id, status: nil, limit: 50, before: nil, in: tx)
        }
        return pages.frame(request, context, item: "webhooks", title: endpoint.url) { t in
            let path = "/messaging/webhooks/\(endpoint.id)"
            let secretHTML: HTML =
                secret.map {
                    #"<p class="alert alert-warning" role="status">\#(t("messaging.webhook.secret_once")) <code id="webhook-secret">\#($0)</code></p>"#
                } ?? ""
            let rows = deliveries.map { delivery -> [HTML] in
                let retry: HTML =
                    delivery.status == .pending
                    ? ""
                    : #"<form method="post" action="\#(path)/deliveries/\#(delivery.id.description)/retry"><button class="button" type="submit">\#(t("messaging.webhook.retry"))</button></form>"#
                return [
                    "\(delivery.eventType)", "\(t("messaging.delivery.\(delivery.status.rawValue)"))",
                    "\(delivery.lastStatusCode.map(String.init) ?? "—")", "\(String(delivery.attempts))",
                    "\(delivery.lastError ?? "")", "\(MessagingPages.date(delivery.createdAt))", retry,
                ]
            }
            let toggle = endpoint.status == .active ? "disable" : "enable"
            let form: HTML = """
                <form class="form" method="post" action="\(path)/save">
                <input type="hidden" name="version" value="\(String(endpoint.version))">
                \(MessagingPages.field("url", label: t("messaging.webhook.url"), type: "url", value: endpoint.url, issues: issues))
                \(MessagingPages.field("event_types", label: t("messaging.webhook.event_types"), value: endpoint.eventTypes.joined(separator: ", "), issues: issues))
                \(MessagingPages.field("description", label: t("messaging.detail"), value: endpoint.description, issues: issues, required: false))
                <div class="form-actions"><button class="button button-primary" type="submit">\(t("messaging.save"))</button></div></form>
                """
            let disabled: HTML =
                endpoint.status == .disabled
                ? #"<p class="alert alert-danger" role="alert">\#(t("messaging.webhook.disabled")): \#(endpoint.disabledReason ?? "")</p>"#
                : ""
            return """
                \(MessagingPages.alert(notice.map { t($0) }, kind: "success"))\(secretHTML)\(disabled)\(MessagingPages.general(issues))
                <p>\(t("messaging.status")): <strong data-status>\(t("messaging.webhook.\(endpoint.status.rawValue)"))</strong></p>
                <div class="form-actions">
                <form method="post" action="\(path)/\(toggle)"><input type="hidden" name="version" value="\(String(endpoint.version))"><button class="button" type="submit">\(t("messaging.webhook.\(toggle)"))</button></form>
                <form method="post" action="\(path)/rotate"><button class="button" type="submit">\(t("messaging.webhook.rotate"))</button></form>
                </div>\(form)
                <h2>\(t("messaging.webhook.deliveries"))</h2>
                \(MessagingPages.table("deliveries", headers: [t("messaging.webhook.event"), t("messaging.status"), t("messaging.webhook.code"), t("messaging.webhook.tries"), t("messaging.webhook.error"), t("messaging.added"), ""], rows: rows, empty: t("messaging.webhook.no_deliveries")))
                """
        }
    }

    func action(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let service = WebhookService(services: services)
        let form = try await FormBody.decode(request, context: context)
        do {
            switch context.parameters.get("action") ?? "" {
            case "rotate":
                let rotated = try await service.rotate(Self.id(context), by: context.caller(request))
                return try await endpoint(request, context, notice: "messaging.webhook.rotated", secret: rotated.secret)
            case "save", "enable", "disable":
                let current = try await service.find(Self.id(context), by: context.caller(request))
                let action = context.parameters.get("action")
                let status: WebhookEndpoint.Status? =
                    action == "enable" ? .active : action == "disable" ? .disabled : nil
                let body = WebhookService.Input(
                    url: action == "save" ? form["url"] ?? "" : current.url,
                    description: action == "save" ? form["description"] : current.description,
                    eventTypes: action == "save" ? Self.types(form["event_types"] ?? "") : current.eventTypes,
                    status: status, version: form["version"].flatMap { Int($0) })
                _ = try await service.update(
                    Self.id(context), body,
                    precondition: Preconditions.of(request, bodyVersion: body.version),
                    by: context.caller(request))
                return try await endpoint(request, context, notice: "messaging.saved", secret: nil)
            case "delete":
                try await service.delete(
                    Self.id(context), precondition: Preconditions.of(request),
                    by: context.caller(request))
                return PageResponses.redirect("/messaging/webhooks")
            default:
                throw DomainError.notFound(entity: "action")
            }
        } catch {
            return try await endpoint(
                request, context, notice: nil, secret: nil, issues: try MessagingPages.issues(of: error))
        }
    }
}
