import Foundation
import Hummingbird
import Kernel
import Platform

/// The tenant's background jobs and dead letters in the Messaging web app.
struct OperationsPages: Sendable {
    let services: MessagingServices
    let pages: MessagingPages
    var service: OperationsService { OperationsService(services: services) }

    func register(on registrar: RouteRegistrar) {
        registrar.get("/messaging/jobs") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await jobs(request, context, issues: []) }
        }
        registrar.post("/messaging/jobs/{job}/{action}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                do {
                    switch context.parameters.get("action") {
                    case "retry":
                        try await service.retry(job: context.parameters.get("job") ?? "", by: context.caller(request))
                    case "cancel":
                        try await service.cancel(job: context.parameters.get("job") ?? "", by: context.caller(request))
                    default: throw DomainError.notFound(entity: "action")
                    }
                    return PageResponses.redirect("/messaging/jobs")
                } catch {
                    return try await jobs(request, context, issues: try MessagingPages.issues(of: error))
                }
            }
        }
        registrar.get("/messaging/dead-letters") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await deadLetters(request, context, issues: [])
            }
        }
        registrar.post("/messaging/dead-letters/{event}/replay") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                do {
                    try await service.replay(event: context.parameters.get("event") ?? "", by: context.caller(request))
                    return PageResponses.redirect("/messaging/dead-letters")
                } catch {
                    return try await deadLetters(request, context, issues: try MessagingPages.issues(of: error))
                }
            }
        }
    }

    func jobs(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        let jobs = try await service.jobs(status: request.query("status"), by: context.caller(request))
        let current = request.query("status") ?? ""
        return pages.frame(request, context, item: "jobs", status: issues.isEmpty ? .ok : .conflict) { t in
            let filters = ([""] + OperationsService.statuses).map { status -> HTML in
                let marker: HTML = status == current ? #" aria-current="page""# : ""
                let label = status.isEmpty ? t("messaging.jobs.all") : t("messaging.job.\(status)")
                return #"<li><a href="/messaging/jobs?status=\#(status)"\#(marker)>\#(label)</a></li>"#
            }
            let rows = jobs.map { job -> [HTML] in
                var action: HTML = ""
                if job.status == "failed" || job.status == "cancelled" {
                    action =
                        #"<form method="post" action="/messaging/jobs/\#(job.id)/retry"><button class="button" type="submit">\#(t("messaging.job.retry"))</button></form>"#
                } else if job.status == "queued" || job.status == "running" {
                    action =
                        #"<form method="post" action="/messaging/jobs/\#(job.id)/cancel"><button class="button" type="submit">\#(t("messaging.job.cancel"))</button></form>"#
                }
                return [
                    "\(job.name)", "\(t("messaging.job.\(job.status)"))", "\(String(job.priority))",
                    "\(MessagingPages.date(job.runAt))", "\(String(job.attempts))/\(String(job.maxAttempts))",
                    "\(job.lastError ?? "")", action,
                ]
            }
            return """
                \(MessagingPages.general(issues))<nav aria-label="\(t("messaging.status"))"><ul class="admin-menu">\(filters)</ul></nav>
                \(MessagingPages.table("jobs", headers: [t("messaging.name"), t("messaging.status"), t("messaging.job.priority"), t("messaging.job.run_at"), t("messaging.webhook.tries"), t("messaging.webhook.error"), ""], rows: rows, empty: t("messaging.jobs.empty")))
                """
        }
    }

    func deadLetters(_ request: Request, _ context: AppRequestContext, issues: [FieldIssue]) async throws -> Response {
        let dead = try await service.deadLetters(by: context.caller(request))
        return pages.frame(request, context, item: "dead-letters", status: issues.isEmpty ? .ok : .notFound) { t in
            let rows = dead.map { letter -> [HTML] in
                [
                    "\(letter.eventType)", "\(letter.group)", "\(String(letter.attempts))", "\(letter.lastError)",
                    "\(MessagingPages.date(letter.deadAt))",
                    #"<form method="post" action="/messaging/dead-letters/\#(letter.eventID)/replay"><button class="button" type="submit">\#(t("messaging.dead.replay"))</button></form>"#,
                ]
            }
            return """
                \(MessagingPages.general(issues))<p>\(t("messaging.dead.explained"))</p>
                \(MessagingPages.table("dead-letters", headers: [t("messaging.webhook.event"), t("messaging.dead.group"), t("messaging.webhook.tries"), t("messaging.webhook.error"), t("messaging.dead.at"), ""], rows: rows, empty: t("messaging.dead.empty")))
                """
        }
    }
}
