import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/activities`: calls, meetings, emails, notes and tasks about leads, contacts, companies and deals.
///
/// - Reading needs `crm.leads:read`, and `crm.deals:read` for an activity about a deal (others are not shown it);
///   writing `crm.leads:write`, and `crm.deals:write` too when a target is a deal. Changing is for the author, the
///   owner or `crm.admin:manage`; deleting for the author or `crm.admin:manage`.
/// - A contact's or a deal's company (and a deal's contacts) become targets too, so a company's timeline has every
///   activity with its people and deals.
/// - A reminder (`remind_at`) enqueues a job that mails the owner (else the author) when due, through Identity's
///   `identity.user_notice.requested`; changing the time sends it again at the new time, a done task gets none.
/// - `@[Name](user:<id>)` in the body mentions a user: each newly mentioned user (not the author) is mailed once.
struct ActivityRoutes: Sendable {
    let services: CRMServices
    static let path = "\(CRMPaths.api)/activities"
    static let fieldNames: Set<String> = [
        "type", "subject", "body", "occurred_at", "due_at", "remind_at", "done", "duration_minutes", "owner_id",
        "targets",
    ]

    func register(on routes: RouteRegistrar) {
        routes.get(RouterPath(Self.path)) { request, context in try await list(request, context) }
        routes.post(RouterPath(Self.path)) { request, context in try await create(request, context) }
        routes.get("\(Self.path)/{id}") { _, context in try await get(context) }
        routes.patch("\(Self.path)/{id}") { request, context in try await update(request, context) }
        routes.delete("\(Self.path)/{id}") { request, context in
            try await JSONBody.withoutBody(request, context) { try await delete(request, context) }
        }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsWrite)
        let principal = try context.requirePrincipal()
        let fields = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context), allowed: Self.fieldNames)
        try await services.requireUsers(in: fields, context)
        if case .string(let text)? = fields["body"] {
            // Mentions are user references too.
            try await services.users?.requireUsers(
                Activity.mentions(in: text).map { ("body", $0) }, tenant: context.requireTenant())
        }
        let now = services.clock.now().storedPrecision
        let actor = principal.subject
        var activity = Activity(
            id: .generate(), kind: .note, subject: nil, body: nil, occurredAt: now, dueAt: nil, remindAt: nil,
            remindedAt: nil, completedAt: nil, durationMinutes: nil,
            ownerID: principal.kind == .user ? principal.subject : nil, createdBy: actor, mentions: [], targets: [],
            version: 1, createdAt: now, updatedAt: now)
        try Self.apply(fields, to: &activity, before: nil, now: now)
        try Self.checkDealPermission(activity.targets, context)
        let trace = context.trace?.header
        let prepared = activity
        let created = try await services.database.audited(
            "crm.activity.created", target: "activity", id: { $0.id.description },
            changes: { AuditEntry.changes(before: [:], after: $0.fields) }, at: now, request: request,
            context: context
        ) { tx in
            var activity = prepared
            try await Self.prepare(&activity, before: nil, in: tx)
            try await ActivityStore().insert(activity, in: tx)
            try await CRMEvents.append(
                "crm.activity.created", activity, entity: "activity", id: activity.id.rawValue, traceparent: trace,
                in: tx)
            try await Self.afterWrite(before: nil, after: activity, actor: actor, now: now, trace: trace, in: tx)
            return activity
        }
        var response = try JSONResponse.created(created, location: "\(Self.path)/\(created.id)")
        response.headers[.eTag] = "W/\"\(created.version)\""
        return response
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsWrite)
        let id = try Self.id(context)
        let fields = try RecordInput.object(
            try await JSONBody.decode(JSONValue.self, from: request, context: context), allowed: Self.fieldNames)
        try await services.requireUsers(in: fields, context)
        if case .string(let text)? = fields["body"] {
            // Mentions are user references too.
            try await services.users?.requireUsers(
                Activity.mentions(in: text).map { ("body", $0) }, tenant: context.requireTenant())
        }
        let now = services.clock.now().storedPrecision
        let principal = try context.requirePrincipal()
        let actor = principal.subject
        let isAdmin = principal.permissions.contains(.crmAdmin)
        let trace = context.trace?.header
        let result = try await services.database.audited(
            "crm.activity.updated", target: "activity", id: { $0.after.id.description },
            changes: { AuditEntry.changes(before: $0.before.fields, after: $0.after.fields) },
            unchanged: { $0.before == $0.after }, at: now, request: request, context: context
        ) { tx -> (before: Activity, after: Activity) in
            guard let stored = try await ActivityStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "activity")
            }
            try Self.checkDealRead(stored, context)
            guard isAdmin || stored.createdBy == actor || stored.ownerID == actor else {
                throw Problem(
                    status: .forbidden,
                    detail: "only its author, its owner or a CRM admin (crm.admin:manage) may change an activity")
            }
            try request.checkIfMatch("W/\"\(stored.version)\"")
            // Changing an activity about a deal, or making it one, needs the deals permission.
            try Self.checkDealPermission(stored.targets, context)
            var activity = stored
            try Self.apply(fields, to: &activity, before: stored, now: now)
            try Self.checkDealPermission(activity.targets, context)
            guard activity != stored else { return (stored, stored) }
            activity.version = stored.version + 1
            activity.updatedAt = now
            try await Self.prepare(&activity, before: stored, in: tx)
            guard try await ActivityStore().update(activity, expectedVersion: stored.version, in: tx) else {
                throw DomainError.conflict("the activity was changed by another request at the same time; retry")
            }
            let changed = RecordChanged(
                id: id.lowercasedString, changes: AuditEntry.changes(before: stored.fields, after: activity.fields),
                merged: false)
            try await CRMEvents.append(
                "crm.activity.updated", changed, entity: "activity", id: id, traceparent: trace, in: tx)
            if stored.completedAt == nil, activity.completedAt != nil {
                try await CRMEvents.append(
                    "crm.activity.completed", activity, entity: "activity", id: id, traceparent: trace, in: tx)
            }
            try await Self.afterWrite(before: stored, after: activity, actor: actor, now: now, trace: trace, in: tx)
            return (stored, activity)
        }
        return try JSONResponse.make(result.after, headers: [.eTag: "W/\"\(result.after.version)\""])
    }

    func get(_ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let id = try Self.id(context)
        guard
            let activity = try await services.database.read(
                tenant: tenant, { tx in try await ActivityStore().find(id, in: tx) })
        else { throw DomainError.notFound(entity: "activity") }
        try Self.checkDealRead(activity, context)
        return try JSONResponse.make(activity, headers: [.eTag: "W/\"\(activity.version)\""])
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsWrite)
        let principal = try context.requirePrincipal()
        let isAdmin = principal.permissions.contains(.crmAdmin)
        let id = try Self.id(context)
        let now = services.clock.now().storedPrecision
        let trace = context.trace?.header
        try await services.database.audited(
            "crm.activity.deleted", target: "activity", id: { $0.id.description },
            changes: { AuditEntry.changes(before: $0.fields, after: [:]) }, at: now, request: request,
            context: context
        ) { tx -> Activity in
            guard let stored = try await ActivityStore().find(id, in: tx) else {
                throw DomainError.notFound(entity: "activity")
            }
            try Self.checkDealRead(stored, context)
            guard isAdmin || stored.createdBy == principal.subject else {
                throw Problem(
                    status: .forbidden,
                    detail: "only its author or a CRM admin (crm.admin:manage) may delete an activity")
            }
            try Self.checkDealPermission(stored.targets, context)
            try request.checkIfMatch("W/\"\(stored.version)\"")
            try await ActivityStore().delete(id, in: tx)
            try await CRMEvents.append(
                "crm.activity.deleted", ["id": id.lowercasedString], entity: "activity", id: id, traceparent: trace,
                in: tx)
            return stored
        }
        return JSONResponse.noContent()
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.crmLeadsRead)
        let tenant = try context.requireTenant()
        let limit = try request.pageLimit()
        var filter = try Self.query(request)
        filter.hideDeals = !(try context.requirePrincipal().permissions.contains(.crmDealsRead))
        let query = filter
        let activities = try await services.database.read(tenant: tenant) { tx in
            try await ActivityStore().list(query, limit: limit + 1, in: tx)
        }
        let kept = Array(activities.prefix(limit))
        let next = activities.count > limit ? kept.last.map { Cursor(position: query.position(of: $0)) } : nil
        return try JSONResponse.make(Page(data: kept, nextCursor: next))
    }

    /// The list's filters, sort and cursor; 400 naming every bad parameter.
    static func query(_ request: Request) throws -> ActivityStore.Query {
        var query = ActivityStore.Query()
        var validation = Validation()
        func issue(_ field: String, _ message: String) {
            validation.add(FieldIssue(field: field, code: "invalid_value", message: message))
        }
        func time(_ name: String) -> Date? {
            guard let text = request.query(name) else { return nil }
            guard let date = RFC3339.date(from: text) else {
                issue(name, "a date-time (RFC 3339)")
                return nil
            }
            return date
        }
        if let text = request.query("type") {
            let kinds = text.split(separator: ",").map { Activity.Kind(rawValue: String($0)) }
            if kinds.contains(nil) || kinds.isEmpty {
                issue("type", "comma-separated: " + Activity.Kind.allCases.map(\.rawValue).joined(separator: ", "))
            } else {
                query.kinds = kinds.compactMap { $0 }
            }
        }
        if let owner = request.query("owner_id") {
            if UUID(uuidString: owner) == nil {
                issue("owner_id", "a user id")
            } else {
                query.ownerID = owner.lowercased()
            }
        }
        switch request.query("status") {
        case nil: break
        case "open": query.done = false
        case "done": query.done = true
        default: issue("status", "open or done")
        }
        query.dueBefore = time("due_before")
        query.dueAfter = time("due_after")
        switch (request.query("target_type"), request.query("target_id")) {
        case (nil, nil): break
        case (let type?, let id?):
            if let entity = CustomField.Entity(rawValue: type), let uuid = UUID(uuidString: id) {
                query.target = Activity.Target(type: entity, id: uuid)
            } else {
                issue("target_id", "target_type (lead, contact, company, deal) and target_id (its id) together")
            }
        default: issue("target_id", "target_type and target_id together")
        }
        if let sort = request.query("sort") {
            if let value = ActivityStore.Query.Sort(rawValue: sort) {
                query.sort = value
            } else {
                issue("sort", ActivityStore.Query.Sort.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
        if !validation.issues.isEmpty {
            throw Problem(
                status: .badRequest, title: "Invalid query", detail: "the list's parameters are not valid",
                errors: validation.issues)
        }
        if let position = try request.cursorPosition() {
            guard let after = ActivityStore.Query.position(position) else {
                throw Problem(status: .badRequest, detail: "cursor is not valid for this list")
            }
            query.after = after
        }
        return query
    }

    /// Applies a body (merge-patch) to `activity`; `before` is the stored one, `nil` when creating. 422 naming
    /// every bad field.
    static func apply(_ fields: [String: JSONValue], to activity: inout Activity, before: Activity?, now: Date) throws {
        var input = RecordInput(fields)
        if let value = fields["type"] {
            if case .string(let text) = value, let kind = Activity.Kind(rawValue: text) {
                activity.kind = kind
            } else {
                input.issue("type", "invalid_value", Activity.Kind.allCases.map(\.rawValue).joined(separator: ", "))
            }
        } else if before == nil {
            input.issue("type", "required", Activity.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if case .some(let value) = input.text("subject", max: 200) { activity.subject = value }
        if case .some(let value) = input.text("body", max: 10_000) { activity.body = value }
        if case .some(let value) = time(&input, "occurred_at") {
            if let value { activity.occurredAt = value } else { input.issue("occurred_at", "required", "a date-time") }
        }
        if case .some(let value) = time(&input, "due_at") { activity.dueAt = value }
        if case .some(let value) = time(&input, "remind_at") {
            if let value, value != before?.remindAt, value < now.addingTimeInterval(-60) {
                input.issue("remind_at", "in_the_past", "a reminder time that has not passed")
            }
            activity.remindAt = value
        }
        if activity.remindAt != before?.remindAt { activity.remindedAt = nil }
        if let value = fields["done"] {
            switch value {
            case .bool(true): if activity.completedAt == nil { activity.completedAt = now }
            case .bool(false): activity.completedAt = nil
            default: input.issue("done", "invalid_type", "true or false")
            }
        }
        if activity.completedAt != nil && activity.kind != .task {
            input.issue("done", "invalid_value", "only a task is done or open")
        }
        if case .some(let value) = input.integer("duration_minutes", in: 0...10_080) {
            activity.durationMinutes = value
        }
        if case .some(let value) = input.id("owner_id", message: "a user id") { activity.ownerID = value }
        if let value = fields["targets"] {
            if let targets = targets(value) {
                activity.targets = targets
            } else {
                input.issue(
                    "targets", "invalid_value",
                    "at most \(Activity.maxTargets) of {\"type\": \"lead|contact|company|deal\", \"id\": \"...\"}")
            }
        }
        if activity.subject == nil && activity.body == nil {
            input.issue("subject", "required", "an activity needs a subject or a body")
        }
        activity.mentions = Activity.mentions(in: activity.body ?? "")
        if activity.mentions.count > Activity.maxMentions {
            input.issue("body", "invalid_value", "at most \(Activity.maxMentions) mentioned users")
        }
        try input.validation.check()
    }

    /// A date-time field: `.none` when absent, `.some(nil)` for null.
    static func time(_ input: inout RecordInput, _ name: String) -> Date?? {
        guard let value = input.fields[name] else { return .none }
        switch value {
        case .null: return .some(nil)
        case .string(let text):
            if let date = RFC3339.date(from: text) { return .some(date.storedPrecision) }
        default: break
        }
        input.issue(name, "invalid_format", "a date-time (RFC 3339), such as 2026-12-24T09:00:00Z")
        return .none
    }

    /// `[{"type", "id"}]`, each once, in order; `nil` when malformed or too many.
    static func targets(_ value: JSONValue) -> [Activity.Target]? {
        guard case .array(let items) = value, items.count <= Activity.maxTargets else { return nil }
        var targets: [Activity.Target] = []
        for item in items {
            guard case .object(let object) = item, object.count == 2, case .string(let type)? = object["type"],
                let entity = CustomField.Entity(rawValue: type), case .string(let id)? = object["id"],
                let uuid = UUID(uuidString: id)
            else { return nil }
            let target = Activity.Target(type: entity, id: uuid)
            if !targets.contains(target) { targets.append(target) }
        }
        return targets
    }

    /// 404 for an activity about a deal when the caller may not read deals (as if it were not there).
    static func checkDealRead(_ activity: Activity, _ context: AppRequestContext) throws {
        guard activity.targets.contains(where: { $0.type == .deal }) else { return }
        guard try context.requirePrincipal().permissions.contains(.crmDealsRead) else {
            throw DomainError.notFound(entity: "activity")
        }
    }

    /// 403 when a target is a deal and the caller may not write deals.
    static func checkDealPermission(_ targets: [Activity.Target], _ context: AppRequestContext) throws {
        if targets.contains(where: { $0.type == .deal }) { try context.require(.crmDealsWrite) }
    }

    /// Checks that the new targets exist (422 naming each missing one) and adds the companies (and a deal's
    /// contacts) they belong to.
    static func prepare(_ activity: inout Activity, before: Activity?, in tx: Transaction) async throws {
        var issues: [FieldIssue] = []
        var added: [Activity.Target] = []
        for (index, target) in activity.targets.enumerated() where !(before?.targets.contains(target) ?? false) {
            var related: [Activity.Target]?
            switch target.type {
            case .lead:
                related = try await RecordStore<Lead>().find(target.id, in: tx).map { _ in [] }
            case .company:
                related = try await RecordStore<Company>().find(target.id, in: tx).map { _ in [] }
            case .contact:
                related = try await RecordStore<Contact>().find(target.id, in: tx).map { contact in
                    contact.companyID.map { [Activity.Target(type: .company, id: $0.rawValue)] } ?? []
                }
            case .deal:
                related = try await RecordStore<Deal>().find(target.id, in: tx).map { deal in
                    (deal.companyID.map { [Activity.Target(type: .company, id: $0.rawValue)] } ?? [])
                        + deal.contactIDs.map { Activity.Target(type: .contact, id: $0.rawValue) }
                }
            }
            if let related {
                added += related
            } else {
                issues.append(
                    FieldIssue(field: "targets[\(index)]", code: "not_found", message: "no such \(target.type)"))
            }
        }
        if !issues.isEmpty { throw DomainError.validation(issues) }
        for target in added where !activity.targets.contains(target) && activity.targets.count < Activity.maxTargets {
            activity.targets.append(target)
        }
    }

    /// A reminder job when the reminder time is new; a notice to each newly mentioned user.
    static func afterWrite(
        before: Activity?, after: Activity, actor: String, now: Date, trace: String?, in tx: Transaction
    ) async throws {
        // A new reminder time, or a task opened again before its reminder went out (stale jobs find nothing to do).
        if let remindAt = after.remindAt, after.completedAt == nil, after.remindedAt == nil,
            remindAt != before?.remindAt || before?.completedAt != nil
        {
            try await ActivityReminder.schedule(after.id.rawValue, at: remindAt, now: now, in: tx)
        }
        let about = after.title
        for user in after.mentions where user != actor && !(before?.mentions.contains(user) ?? false) {
            let notice = UserNotice(
                userID: user, subject: "You were mentioned: \(about)",
                text: """
                    You were mentioned in a CRM \(after.kind.rawValue):

                    \(Activity.plain(after.body ?? ""))

                    The activity is \(after.id) in the CRM.
                    """)
            try await CRMEvents.append(
                UserNotice.eventType, notice, entity: "activity", id: after.id.rawValue, traceparent: trace, in: tx)
        }
    }

    static func id(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: "activity")
        }
        return id
    }
}
