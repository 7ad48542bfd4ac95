import Foundation
import Hummingbird
import Kernel
import Platform

/// `GET /api/v1/crm/{leads|contacts|companies|deals}/{id}/timeline`: what happened to a record, latest first: its
/// activities and its changes as the audit log holds them (created, each update with its fields before and after,
/// stage moves, conversion). A contact, company or deal made from a lead also shows the lead's activities and
/// changes. Paged with `limit` and `cursor`; the cursor holds the position in both sources, so no item is skipped
/// or repeated however many share a time.
struct TimelineRoutes: Sendable {
    let services: CRMServices

    /// One timeline entry.
    struct Item: Encodable, Sendable {
        /// `activity` or `change`.
        let type: String
        let at: Date
        let activity: Activity?
        let change: AuditRecord?

        enum CodingKeys: String, CodingKey {
            case type, at, activity, change
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(RFC3339.string(from: at), forKey: .at)
            if let activity { try container.encode(activity, forKey: .activity) }
            if let change {
                try container.encode(
                    Change(
                        action: change.entry.action, actor: change.entry.actor,
                        record: RecordReference(type: change.entry.targetType, id: change.entry.targetID),
                        changes: change.entry.changes),
                    forKey: .change)
            }
        }
    }

    /// A change as the timeline shows it (the audit record without its network details and hash).
    struct Change: Encodable, Sendable {
        let action: String
        let actor: AuditEntry.Actor
        let record: RecordReference
        let changes: [String: AuditEntry.Change]
    }

    struct RecordReference: Encodable, Sendable {
        let type: String?
        let id: String?
    }

    func register(on routes: RouteRegistrar) {
        register(Lead.self, plural: "leads", read: .crmLeadsRead, on: routes)
        register(Contact.self, plural: "contacts", read: .crmLeadsRead, on: routes)
        register(Company.self, plural: "companies", read: .crmLeadsRead, on: routes)
        register(Deal.self, plural: "deals", read: .crmDealsRead, on: routes)
    }

    func register<Record: CRMRecord>(_: Record.Type, plural: String, read: Permission, on routes: RouteRegistrar) {
        routes.get("\(CRMPaths.api)/\(plural)/{id}/timeline") { request, context in
            try await timeline(Record.self, read: read, request, context)
        }
    }

    func timeline<Record: CRMRecord>(
        _: Record.Type, read: Permission, _ request: Request, _ context: AppRequestContext
    ) async throws -> Response {
        try context.require(read)
        let tenant = try context.requireTenant()
        let entity = Record.entity
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw DomainError.notFound(entity: entity.rawValue)
        }
        let limit = try request.pageLimit()
        let position = try Position(request)
        let permissions = try context.requirePrincipal().permissions
        // The lead a record was made from shows to those who may read leads; activities about deals to those who
        // may read deals.
        let readsLeads = permissions.contains(.crmLeadsRead)
        let hideDeals = !permissions.contains(.crmDealsRead)
        let (activities, changes) = try await services.database.read(tenant: tenant) {
            tx -> ([Activity], [AuditRecord]) in
            guard try await RecordStore<Record>().find(id, in: tx) != nil else {
                throw DomainError.notFound(entity: entity.rawValue)
            }
            var sources = [Activity.Target(type: entity, id: id)]
            if entity != .lead && readsLeads {
                sources += try await RecordLinks.leads(convertedInto: entity, id: id, in: tx).map {
                    Activity.Target(type: .lead, id: $0)
                }
            }
            let activities =
                position.activitiesDone
                ? []
                : try await ActivityStore().timeline(
                    of: sources, after: position.activity, hideDeals: hideDeals, limit: limit + 1, in: tx)
            var changes: [AuditRecord] = []
            if !position.changesDone {
                for source in sources {
                    var filter = AuditFilter()
                    filter.targetType = source.type.rawValue
                    filter.targetID = source.id.lowercasedString
                    changes += try await AuditTrail().list(
                        filter: filter, limit: limit + 1, before: position.sequence, in: tx)
                }
                changes.sort { $0.sequence > $1.sequence }
            }
            return (activities, changes)
        }
        // Merges the two newest-first streams by time (a change first on a tie), `limit` items.
        var items: [Item] = []
        var next = position
        var (a, c) = (activities[...], changes[...])
        while items.count < limit, a.first != nil || c.first != nil {
            if let change = c.first, a.first.map({ change.occurredAt >= $0.occurredAt }) ?? true {
                items.append(Item(type: "change", at: change.occurredAt, activity: nil, change: change))
                next.sequence = change.sequence
                c = c.dropFirst()
            } else if let activity = a.first {
                items.append(Item(type: "activity", at: activity.occurredAt, activity: activity, change: nil))
                next.activity = (activity.occurredAt.epochMilliseconds, activity.id.rawValue)
                a = a.dropFirst()
            }
        }
        // A source is done when it returned fewer than asked and all of it was used.
        next.activitiesDone = position.activitiesDone || (activities.count <= limit && a.isEmpty)
        // (Merged from several audit queries, more than `limit` records means one of them may have more.)
        next.changesDone = position.changesDone || (changes.count <= limit && c.isEmpty)
        let more = !(next.activitiesDone && next.changesDone)
        return try JSONResponse.make(Page(data: items, nextCursor: more ? Cursor(position: next.text) : nil))
    }

    /// Where the next page starts in each source: `<ms>|<activity id>|<audit sequence>|<done flags>`.
    struct Position: Sendable {
        var activity: (Int64, UUID)?
        var sequence: Int64?
        var activitiesDone = false
        var changesDone = false

        init(_ request: Request) throws {
            guard let text = try request.cursorPosition() else { return }
            let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4 else { throw Self.invalid }
            if !parts[0].isEmpty || !parts[1].isEmpty {
                guard let time = Int64(parts[0]), let id = UUID(uuidString: parts[1]) else { throw Self.invalid }
                activity = (time, id)
            }
            if !parts[2].isEmpty {
                guard let sequence = Int64(parts[2]) else { throw Self.invalid }
                self.sequence = sequence
            }
            activitiesDone = parts[3].contains("a")
            changesDone = parts[3].contains("c")
        }

        static let invalid = Problem(status: .badRequest, detail: "cursor is not valid for this list")

        var text: String {
            let flags = (activitiesDone ? "a" : "") + (changesDone ? "c" : "")
            return [
                activity.map { String($0.0) } ?? "", activity.map { $0.1.lowercasedString } ?? "",
                sequence.map(String.init) ?? "", flags,
            ].joined(separator: "|")
        }
    }
}
