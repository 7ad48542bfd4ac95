import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// The CRM web app: lead, contact and company tables with filters, saved views and bulk actions; record pages with
/// their timeline; the pipeline board (drag a card, or pick its stage from the keyboard; it follows other users'
/// moves live); the import wizard; the analytics dashboard. Pages are read on the server; every change goes
/// through the JSON API from `crm.js` with the session cookie, so permissions, validation, events and audit are the
/// API's own. Signed-in users only; a missing permission is a 403 page.
struct CRMPages: Sendable {
    let services: CRMServices
    let web: WebKit

    func register(on routes: RouteRegistrar) {
        routes.get("/crm") { _, _ in PageResponses.redirect("/crm/leads") }
        routes.get("/crm/leads") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await list(LeadKind.kind, request, context) }
        }
        routes.get("/crm/contacts") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await list(ContactKind.kind, request, context)
            }
        }
        routes.get("/crm/companies") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await list(CompanyKind.kind, request, context)
            }
        }
        routes.get("/crm/leads/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await record(LeadKind.kind, request, context)
            }
        }
        routes.get("/crm/contacts/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await record(ContactKind.kind, request, context)
            }
        }
        routes.get("/crm/companies/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in
                try await record(CompanyKind.kind, request, context)
            }
        }
        routes.get("/crm/deals/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await record(DealKind.kind, request, context)
            }
        }
        routes.get("/crm/pipeline") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await board(request, context) }
        }
        routes.get("/crm/import") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await imports(request, context) }
        }
        routes.get("/crm/import/{id}") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await importPage(request, context) }
        }
        routes.get("/crm/analytics") { request, context in
            try await PageResponses.signedIn(request, context) { _ in try await analytics(request, context) }
        }
    }

    static let sections = ["leads", "contacts", "companies", "pipeline", "import", "analytics"]

    func frame(
        _ request: Request, _ context: AppRequestContext, section: String, title: String,
        _ content: @escaping (Localizer) -> HTML
    ) -> Response {
        var response = web.page(
            request: request, context: context, title: { t in title.isEmpty ? t("crm.\(section)") : title }
        ) { chrome in
            let t = chrome.t
            let heading = title.isEmpty ? t("crm.\(section)") : title
            let links = Self.sections.map { entry -> HTML in
                let marker: HTML = entry == section ? #" aria-current="page""# : ""
                return #"<li><a href="/crm/\#(entry)"\#(marker)>\#(t("crm.\(entry)"))</a></li>"#
            }
            let script: HTML =
                #"<script src="\#(chrome.assets.path("crm.js"))" nonce="\#(chrome.nonce)" defer></script>"#
            return """
                <section class="section crm"><nav aria-label="\(t("crm.title"))"><ul class="admin-menu">\(links)</ul></nav>
                <h1>\(heading)</h1><p class="alert alert-danger" role="alert" data-crm-error hidden></p>\(content(t))</section>\(script)
                """
        }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    // MARK: lists

    /// The columns of a kind's table: field and how a record shows it.
    static func columns(_ entity: CustomField.Entity) -> [String] {
        switch entity {
        case .lead: ["email", "company", "status", "score", "source"]
        case .contact: ["email", "phone", "job_title"]
        case .company: ["domain", "industry", "employees"]
        case .deal: ["value", "status"]
        }
    }

    static func title<Record: CRMRecord>(_ record: Record) -> String {
        let text = record.searchText.title
        return text.isEmpty ? record.uuid.lowercasedString : text
    }

    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case .object(let money)?:
            if case .integer(let amount)? = money["amount_minor"], case .string(let currency)? = money["currency"] {
                return String(format: "%.2f", Double(amount) / 100) + " " + currency
            }
            return ""
        default: return RecordCells.text(value)
        }
    }

    func list<Record: CRMRecord>(_ kind: RecordKind<Record>, _ request: Request, _ context: AppRequestContext)
        async throws -> Response
    {
        try context.require(kind.read)
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        let entity = kind.entity
        let (records, views, query) = try await services.database.read(tenant: tenant) { tx in
            let definitions = try await CustomFieldStore().list(entity: entity, in: tx)
            let query = try RecordListParameters.parse(request, entity: entity, definitions: definitions)
            return (
                try await RecordStore<Record>().list(query, limit: 51, in: tx),
                try await SavedViewStore().visible(to: principal.subject, entity: entity, in: tx), query
            )
        }
        let kept = Array(records.prefix(50))
        let next = records.count > 50 ? kept.last.map { Cursor(position: $0.position(in: query).text) } : nil
        let canWrite = principal.permissions.contains(kind.write)
        let canDelete = principal.permissions.contains(.crmAdmin)
        let current = request.uri.query ?? ""
        return frame(request, context, section: kind.plural, title: "") { t in
            let columns = Self.columns(entity)
            let head: [HTML] =
                [
                    #"<th scope="col"><input type="checkbox" data-select-all aria-label="\#(t("crm.select_all"))"></th>"#,
                    "<th scope=\"col\">\(t("crm.name"))</th>",
                ]
                + columns.map { "<th scope=\"col\">\(t("crm.field.\($0)"))</th>" }
            let rows = kept.map { record -> HTML in
                let fields = record.fields
                let id = record.uuid.lowercasedString
                let cells = columns.map { column -> HTML in "<td>\(Self.cell(fields[column]))</td>" }
                return """
                    <tr data-id="\(id)"><td><input type="checkbox" name="select" value="\(id)" aria-label="\(t("crm.select")) \(Self.title(record))"></td>
                    <td><a href="/crm/\(kind.plural)/\(id)">\(Self.title(record))</a></td>\(cells)</tr>
                    """
            }
            let table: HTML =
                kept.isEmpty
                ? #"<p class="empty-state" id="records-empty">\#(t("crm.empty"))</p>"#
                : #"<div class="table-wrap"><table class="table" id="records"><thead><tr>\#(head)</tr></thead><tbody>\#(rows)</tbody></table></div>"#
            let viewLinks = views.map { view -> HTML in
                let marker: HTML = view.query == current ? #" aria-current="page""# : ""
                return
                    #"<li><a href="/crm/\#(kind.plural)?\#(view.query)"\#(marker)>\#(view.name)</a>\#(view.shared ? " (\(t("crm.shared")))" : "")</li>"#
            }
            let statusFilter: HTML =
                entity == .lead
                ? """
                <div class="field"><label for="filter-status">\(t("crm.field.status"))</label><select id="filter-status" name="status">
                <option value="">\(t("crm.any"))</option>\(LeadStatus.allCases.map { status -> HTML in
                        let selected: HTML = request.query("status") == status.rawValue ? " selected" : ""
                        return "<option value=\"\(status.rawValue)\"\(selected)>\(t("crm.status.\(status.rawValue)"))</option>"
                    })</select></div>
                """ : ""
            let bulkStatus: HTML =
                entity == .lead
                ? HTML(
                    trusted: LeadStatus.allCases.map {
                        "<option value=\"status:\($0.rawValue)\">\(HTML.escape(t("crm.set_status"))): \(HTML.escape(t("crm.status.\($0.rawValue)")))</option>"
                    }.joined())
                : ""
            let bulk: HTML =
                canWrite
                ? """
                <form class="crm-bulk" data-bulk="\(kind.path)/bulk"><label for="bulk-action">\(t("crm.bulk"))</label>
                <select id="bulk-action" name="action">\(bulkStatus)<option value="tag">\(t("crm.add_tag"))</option>\(canDelete ? "<option value=\"delete\">\(t("crm.delete"))</option>" as HTML : "")</select>
                <input name="tag" aria-label="\(t("crm.tag"))" placeholder="\(t("crm.tag"))">
                <button class="button button-small" type="submit">\(t("crm.apply"))</button><span role="status" data-bulk-result></span></form>
                """ : ""
            let create: HTML = canWrite ? Self.createForm(kind, t) : ""
            let more: HTML =
                next.map { cursor -> HTML in
                    var parameters = request.uri.queryParameters.filter { $0.key != "cursor" }.map {
                        (String($0.key), String($0.value))
                    }
                    parameters.append(("cursor", cursor.token))
                    return
                        #"<p><a class="button" href="/crm/\#(kind.plural)?\#(FormBody.encode(parameters))" rel="next">\#(t("crm.next_page"))</a></p>"#
                } ?? ""
            return """
                <div class="crm-toolbar">
                <form class="crm-filters" method="get" action="/crm/\(kind.plural)">
                <div class="field"><label for="filter-q">\(t("crm.search"))</label><input id="filter-q" name="q" type="search" value="\(request.query("q") ?? "")"></div>
                \(statusFilter)<div class="field"><label for="filter-tag">\(t("crm.tag"))</label><input id="filter-tag" name="tag" value="\(request.query("tag") ?? "")"></div>
                <div class="field"><label for="filter-sort">\(t("crm.sort"))</label><select id="filter-sort" name="sort">\(RecordListParameters.sortFields(entity).flatMap { ["-" + $0, $0] }.map { value -> HTML in
                    let selected: HTML = (request.query("sort") ?? "-created_at") == value ? " selected" : ""
                    return "<option value=\"\(value)\"\(selected)>\(t("crm.sort.\(value)"))</option>"
                })</select></div>
                <button class="button" type="submit">\(t("crm.filter"))</button></form>
                <nav aria-label="\(t("crm.views"))" class="crm-views"><h3>\(t("crm.views"))</h3><ul>\(viewLinks.isEmpty ? ["<li>\(t("crm.no_views"))</li>"] : viewLinks)</ul>
                <form data-save-view="\(entity.rawValue)"><label for="view-name">\(t("crm.view_name"))</label><input id="view-name" name="name" required maxlength="100">
                <label><input type="checkbox" name="shared"> \(t("crm.shared"))</label><button class="button button-small" type="submit">\(t("crm.save_view"))</button></form></nav>
                </div>
                \(bulk)\(table)\(more)\(create)
                """
        }
    }

    static func createForm<Record: CRMRecord>(_ kind: RecordKind<Record>, _ t: Localizer) -> HTML {
        let fields: [(String, String)] =
            switch kind.entity {
            case .lead:
                [
                    ("first_name", "text"), ("last_name", "text"), ("email", "email"), ("phone", "tel"),
                    ("company", "text"),
                ]
            case .contact:
                [
                    ("first_name", "text"), ("last_name", "text"), ("email", "email"), ("phone", "tel"),
                    ("job_title", "text"),
                ]
            case .company: [("name", "text"), ("domain", "text"), ("industry", "text")]
            case .deal: []
            }
        let inputs = fields.map { name, type -> HTML in
            let label = t("crm.field.\(name)")
            return
                #"<div class="field"><label for="new-\#(name)">\#(label)</label><input id="new-\#(name)" name="\#(name)" type="\#(type)"></div>"#
        }
        return """
            <h2>\(t("crm.new.\(kind.name)"))</h2>
            <form class="form" id="create-form" novalidate data-api="\(kind.path)" data-method="POST" data-then="/crm/\(kind.plural)/{id}">
            \(inputs)<div class="form-actions"><button class="button button-primary" type="submit">\(t("crm.create"))</button></div></form>
            """
    }

    // MARK: record pages

    func record<Record: CRMRecord>(_ kind: RecordKind<Record>, _ request: Request, _ context: AppRequestContext)
        async throws -> Response
    {
        try context.require(kind.read)
        let tenant = try context.requireTenant()
        let principal = try context.requirePrincipal()
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: kind.name)
        }
        let hideDeals = !principal.permissions.contains(.crmDealsRead)
        let readsLeads = principal.permissions.contains(.crmLeadsRead)
        let (found, activities, changes, pipeline) = try await services.database.read(tenant: tenant) {
            tx -> (Record?, [Activity], [AuditRecord], Pipeline?) in
            guard let record = try await RecordStore<Record>().find(id, in: tx) else { return (nil, [], [], nil) }
            var sources = [Activity.Target(type: kind.entity, id: id)]
            if kind.entity != .lead && readsLeads {
                sources += try await RecordLinks.leads(convertedInto: kind.entity, id: id, in: tx).map {
                    Activity.Target(type: .lead, id: $0)
                }
            }
            let activities = try await ActivityStore().timeline(
                of: sources, after: nil, hideDeals: hideDeals, limit: 50, in: tx)
            var changes: [AuditRecord] = []
            for source in sources {
                var filter = AuditFilter()
                filter.targetType = source.type.rawValue
                filter.targetID = source.id.lowercasedString
                changes += try await AuditTrail().list(filter: filter, limit: 50, before: nil, in: tx)
            }
            var pipeline: Pipeline?
            if let deal = record as? Deal { pipeline = try await PipelineStore().find(deal.pipelineID, in: tx) }
            return (record, activities, changes, pipeline)
        }
        guard let record = found else { throw DomainError.notFound(entity: kind.name) }
        let attachments = try await AttachmentService(services: services).list(
            Record.self, of: id, after: nil, limit: 50, by: context.caller(request))
        let canWrite = principal.permissions.contains(kind.write)
        let section = kind.entity == .deal ? "pipeline" : kind.plural
        return frame(request, context, section: section, title: Self.title(record)) { t in
            let fields = record.fields
            let details = fields.keys.sorted().filter { $0 != "custom_fields" }.map { key -> HTML in
                "<dt>\(t("crm.field.\(key)"))</dt><dd data-field=\"\(key)\">\(Self.cell(fields[key]))</dd>"
            }
            var actions: HTML = ""
            if canWrite, let lead = record as? Lead {
                let steps = LeadStatus.allCases.filter { LeadStatusMachine.allowed(from: lead.status).contains($0) }
                let buttons = steps.map { status -> HTML in
                    let label = t("crm.mark.\(status.rawValue)")
                    return
                        #"<button class="button" type="button" data-patch="\#(kind.path)/\#(lead.id.description)" data-body='{"status":"\#(status.rawValue)"}'>\#(label)</button>"#
                }
                let convert: HTML =
                    lead.status == .qualified && lead.convertedAt == nil
                    ? """
                    <h2>\(t("crm.convert"))</h2>
                    <form class="form" id="convert-form" data-convert="\(kind.path)/\(lead.id.description)/convert">
                    <div class="field"><label for="deal-name">\(t("crm.deal_name"))</label><input id="deal-name" name="name" value="\(lead.company ?? "")"></div>
                    <div class="field"><label for="deal-amount">\(t("crm.amount"))</label><input id="deal-amount" name="amount" inputmode="decimal" required></div>
                    <div class="field"><label for="deal-currency">\(t("crm.currency"))</label><input id="deal-currency" name="currency" value="EUR" maxlength="3" required></div>
                    <div class="form-actions"><button class="button button-primary" type="submit">\(t("crm.convert"))</button></div></form>
                    """ : ""
                let made: HTML =
                    lead.dealID.map {
                        #"<p><a href="/crm/deals/\#($0.description)" id="converted-deal">\#(t("crm.open_deal"))</a></p>"#
                    } ?? ""
                actions = "<div class=\"form-actions\" id=\"status-actions\">\(buttons)</div>\(made)\(convert)"
            }
            if canWrite, let deal = record as? Deal, let pipeline {
                let options = pipeline.ordered.map { stage -> HTML in
                    let selected: HTML = stage.id == deal.stageID ? " selected" : ""
                    return
                        "<option value=\"\(stage.id.description)\" data-kind=\"\(stage.kind.rawValue)\"\(selected)>\(stage.name)</option>"
                }
                actions = """
                    <form class="form" id="stage-form" data-move="\(kind.path)/\(deal.id.description)"><div class="field"><label for="stage">\(t("crm.stage"))</label>
                    <select id="stage" name="stage_id">\(options)</select></div>
                    <div class="field"><label for="close-reason">\(t("crm.close_reason"))</label><input id="close-reason" name="close_reason"></div>
                    <div class="form-actions"><button class="button button-primary" type="submit">\(t("crm.move"))</button>
                    <a class="button" href="/crm/pipeline?pipeline_id=\(pipeline.id.description)">\(t("crm.pipeline"))</a></div></form>
                    """
            }
            let note: HTML =
                principal.permissions.contains(.crmLeadsWrite)
                ? """
                <form class="form" id="activity-form" data-activity="\(kind.entity.rawValue):\(record.uuid.lowercasedString)">
                <div class="field"><label for="activity-type">\(t("crm.activity_type"))</label><select id="activity-type" name="type">\(Activity.Kind.allCases.map { kind -> HTML in "<option value=\"\(kind.rawValue)\">\(t("crm.activity.\(kind.rawValue)"))</option>" })</select></div>
                <div class="field"><label for="activity-subject">\(t("crm.subject"))</label><input id="activity-subject" name="subject"></div>
                <div class="field"><label for="activity-body">\(t("crm.body"))</label><textarea id="activity-body" name="body" rows="3"></textarea></div>
                <div class="field"><label for="activity-due">\(t("crm.due"))</label><input id="activity-due" name="due_at" type="datetime-local"></div>
                <div class="form-actions"><button class="button" type="submit">\(t("crm.add_activity"))</button></div></form>
                """ : ""
            return """
                <dl class="crm-details" id="record-details">\(details)</dl>\(actions)
                \(Self.attachments(attachments, upload: canWrite ? "\(kind.path)/\(record.uuid.lowercasedString)/attachments" : nil, maxBytes: services.maxUploadBytes, t))
                <h2>\(t("crm.timeline"))</h2>\(note)\(Self.timeline(activities: activities, changes: changes, t))
                """
        }
    }

    /// The record's files (the first 50, newest first): each a download link, with a remove button and an upload
    /// form for those who may change the record (`upload` is then the API path to post files to).
    static func attachments(_ items: [Attachment], upload: String?, maxBytes: Int, _ t: Localizer) -> HTML {
        let rows = items.map { item -> HTML in
            let remove: HTML =
                upload == nil
                ? ""
                : #" <button class="button button-small" type="button" data-remove-attachment="/api/v1/crm/attachments/\#(item.id.description)">\#(t("crm.remove"))</button>"#
            return """
                <li data-attachment-id="\(item.id.description)"><a href="/api/v1/crm/attachments/\(item.id.description)/content" download>\(item.name)</a>
                <span class="muted">\(Self.size(item.size)) · <time datetime="\(RFC3339.string(from: item.createdAt))">\(RFC3339.string(from: item.createdAt))</time></span>\(remove)</li>
                """
        }
        let list: HTML =
            rows.isEmpty
            ? #"<p class="empty-state" id="attachments">\#(t("crm.attachments_empty"))</p>"#
            : "<ul class=\"crm-attachments\" id=\"attachments\">\(rows)</ul>"
        let form: HTML =
            upload.map { path -> HTML in
                """
                <form class="form" id="attach-form" data-attach="\(path)"><div class="field"><label for="attach-file">\(t("crm.attach_file"))</label>
                <input id="attach-file" name="file" type="file" required aria-describedby="attach-hint"><p class="hint" id="attach-hint">\(t("crm.attachments_limit").replacingOccurrences(of: "{size}", with: Self.size(Int64(maxBytes))))</p></div>
                <div class="form-actions"><button class="button" type="submit">\(t("crm.attach"))</button><span role="status" data-attach-progress></span></div></form>
                """
            } ?? ""
        return "<h2>\(t("crm.attachments"))</h2>\(list)\(form)"
    }

    /// A file size for people: bytes, KB or MB (1024-based, one decimal).
    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let kilobytes = Double(bytes) / 1024
        if kilobytes < 1024 { return "\((kilobytes * 10).rounded() / 10) KB" }
        return "\((kilobytes / 1024 * 10).rounded() / 10) MB"
    }

    static func timeline(activities: [Activity], changes: [AuditRecord], _ t: Localizer) -> HTML {
        var items: [(Date, HTML)] = activities.map { activity in
            let done: HTML =
                activity.completedAt != nil ? #" <span class="badge badge-success">\#(t("crm.done"))</span>"# : ""
            return (
                activity.occurredAt,
                """
                <li class="crm-activity" data-activity-id="\(activity.id.description)"><time datetime="\(RFC3339.string(from: activity.occurredAt))">\(RFC3339.string(from: activity.occurredAt))</time>
                <strong>\(t("crm.activity.\(activity.kind.rawValue)"))</strong>\(done) \(activity.subject ?? "")<p>\(Activity.plain(activity.body ?? ""))</p></li>
                """
            )
        }
        items += changes.map { change in
            let fields = change.entry.changes.keys.sorted().map { t("crm.field.\($0)") }.joined(separator: ", ")
            return (
                change.occurredAt,
                """
                <li class="crm-change"><time datetime="\(RFC3339.string(from: change.occurredAt))">\(RFC3339.string(from: change.occurredAt))</time>
                \(t("crm.action.\(change.entry.action.split(separator: ".").last.map(String.init) ?? "")")) \(fields.isEmpty ? "" : "· \(fields)")</li>
                """
            )
        }
        guard !items.isEmpty else { return #"<p class="empty-state">\#(t("crm.timeline_empty"))</p>"# }
        return "<ol class=\"crm-timeline\" id=\"timeline\">\(items.sorted { $0.0 > $1.0 }.map(\.1))</ol>"
    }

    // MARK: board

    func board(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmDealsRead)
        let tenant = try context.requireTenant()
        let canMove = try context.requirePrincipal().permissions.contains(.crmDealsWrite)
        let wanted = request.query("pipeline_id").flatMap { ID<Pipeline>($0) }
        let now = services.clock.now().storedPrecision
        let pipelines = try await services.database.write(tenant: tenant) { tx in
            _ = try await PipelineStore().ensureDefault(now: now, in: tx)
            return try await PipelineStore().list(in: tx)
        }
        guard let pipeline = pipelines.first(where: { $0.id == wanted }) ?? pipelines.first(where: \.isDefault) else {
            throw DomainError.notFound(entity: "pipeline")
        }
        let columns = try await services.database.read(tenant: tenant) { tx in
            try await pipeline.ordered.asyncMap { stage -> (Pipeline.Stage, [Deal]) in
                var query = RecordQuery(.deal)
                query.stageID = stage.id.rawValue
                query.sort = .updatedAt
                query.descending = true
                return (stage, try await RecordStore<Deal>().list(query, limit: 100, in: tx))
            }
        }
        return frame(request, context, section: "pipeline", title: pipeline.name) { t in
            let others = pipelines.filter { $0.id != pipeline.id }.map { other -> HTML in
                #"<li><a href="/crm/pipeline?pipeline_id=\#(other.id.description)">\#(other.name)</a></li>"#
            }
            let stageOptions = pipeline.ordered.map { stage -> HTML in
                "<option value=\"\(stage.id.description)\" data-kind=\"\(stage.kind.rawValue)\">\(stage.name)</option>"
            }
            let lists = columns.map { stage, deals -> HTML in
                let cards = deals.map { deal -> HTML in
                    let move: HTML =
                        canMove
                        ? """
                        <label class="visually-hidden" for="move-\(deal.id.description)">\(t("crm.move_to"))</label>
                        <select id="move-\(deal.id.description)" data-move-select="\(deal.id.description)">\(stageOptions.map { option -> HTML in option })</select>
                        <button class="button button-small" type="button" data-move-button="\(deal.id.description)">\(t("crm.move"))</button>
                        """ : ""
                    return """
                        <li class="crm-card" data-deal="\(deal.id.description)" data-stage="\(stage.id.description)" draggable="\(canMove ? "true" : "false")">
                        <a href="/crm/deals/\(deal.id.description)">\(deal.name)</a> <span class="crm-card-value">\(Self.cell(deal.fields["value"]))</span>\(move)</li>
                        """
                }
                return """
                    <section class="crm-column" data-column="\(stage.id.description)" data-kind="\(stage.kind.rawValue)" aria-labelledby="stage-\(stage.id.description)">
                    <h2 id="stage-\(stage.id.description)">\(stage.name) <span class="badge" data-count>\(String(deals.count))</span></h2>
                    <ol class="crm-cards">\(cards)</ol></section>
                    """
            }
            return """
                \(others.isEmpty ? "" : "<nav aria-label=\"\(t("crm.pipelines"))\"><ul class=\"admin-menu\">\(others)</ul></nav>" as HTML)
                <p class="field-hint">\(t("crm.board_hint"))</p>
                <div class="crm-board" id="board" data-board="\(pipeline.id.description)" data-live="crm.deal.*">\(lists)</div>
                """
        }
    }
}
