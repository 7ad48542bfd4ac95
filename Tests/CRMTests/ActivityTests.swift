import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import CRM

extension CRMHarness {
    /// Creates an activity from `json` and returns it (the test fails unless it was created).
    func activity(_ json: String, auth: String = CRMHarness.admin) async throws -> [String: Any] {
        let reply = try await call(.post, "/api/v1/crm/activities", json: json, auth: auth)
        #expect(reply.status == .created, "\(reply.body)")
        return try reply.object()
    }

    /// Every item of a record's timeline, reading pages of `limit`.
    func timeline(_ path: String, limit: Int = 50) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            let reply = try await call(.get, "\(path)/timeline?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(reply.status == .ok, "\(reply.body)")
            let page = try reply.object()
            items += page["data"] as? [[String: Any]] ?? []
            cursor = page["next_cursor"] as? String
        } while cursor != nil && items.count < 1_000
        return items
    }

    /// The jobs of `name` as (payload, run_at in milliseconds).
    func jobs(_ name: String) async throws -> [(payload: String, runAt: Int64)] {
        try await database.system { tx in
            let payload = tx.dialect == .postgres ? "payload::text" : "payload"
            return try await tx.sql.raw(
                "SELECT \(unsafeRaw: payload) AS payload, run_at FROM jobs WHERE name = \(bind: name) ORDER BY run_at"
            ).all().map { (try $0.decode(column: "payload", as: String.self), try $0.decode(column: "run_at", as: Int64.self)) }
        }
    }

    /// The data of the outbox's events of `type`, oldest first.
    func events(_ type: String) async throws -> [[String: Any]] {
        try await database.system { tx in
            let payload = tx.dialect == .postgres ? "payload::text" : "payload"
            return try await tx.sql.raw(
                "SELECT \(unsafeRaw: payload) AS payload FROM event_outbox WHERE type = \(bind: type) ORDER BY seq"
            ).all().map { try $0.decode(column: "payload", as: String.self) }
        }.map { text in
            let envelope = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return try #require(envelope["data"] as? [String: Any])
        }
    }
}

@Suite struct ActivityTests {
    static let bob = "0194a3b2-0000-7000-8000-00000000b0b0"

    @Test(arguments: TestBackend.available)
    func anActivityAboutADealShowsOnTheTimelinesOfItsCompanyAndContacts(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let company = try #require(
                try await h.call(.post, "/api/v1/crm/companies", json: #"{"name":"Initech"}"#).object()["id"] as? String)
            let contact = try #require(
                try await h.call(
                    .post, "/api/v1/crm/contacts",
                    json: #"{"first_name":"Peter","email":"peter@initech.example","company_id":"\#(company)"}"#
                ).object()["id"] as? String)
            let deal = try #require(
                try await h.deal(
                    #"{"name":"TPS","value":{"amount_minor":5000,"currency":"USD"},"company_id":"\#(company)","contact_ids":["\#(contact)"]}"#
                )["id"] as? String)
            let call = try await h.activity(
                #"{"type":"call","subject":"Discovery call","duration_minutes":30,"targets":[{"type":"deal","id":"\#(deal)"}]}"#)
            let targets = try #require(call["targets"] as? [[String: String]])
            #expect(
                Set(targets.map { "\($0["type"]!):\($0["id"]!)" })
                    == ["deal:\(deal)", "company:\(company)", "contact:\(contact)"])
            #expect(call["owner_id"] as? String == "ann")
            #expect(call["created_by"] as? String == "ann")
            #expect(call["done"] as? Bool == false)
            let id = try #require(call["id"] as? String)

            for path in ["deals/\(deal)", "companies/\(company)", "contacts/\(contact)"] {
                let items = try await h.timeline("/api/v1/crm/\(path)")
                let activities = items.filter { $0["type"] as? String == "activity" }
                #expect(activities.compactMap { ($0["activity"] as? [String: Any])?["id"] as? String } == [id], "\(path)")
                // And the record's own creation, from the audit log.
                let changes = items.compactMap { $0["change"] as? [String: Any] }
                #expect(changes.contains { ($0["action"] as? String)?.hasSuffix(".created") == true }, "\(path)")
            }
            #expect(try await h.eventTypes().contains("crm.activity.created"))
            #expect(try await h.auditActions().last == "crm.activity.created")

            // Listed by target.
            let listed = try await h.call(.get, "/api/v1/crm/activities?target_type=company&target_id=\(company)")
            #expect(try listed.ids() == [id])
            #expect(try await h.call(.get, "/api/v1/crm/activities?target_type=lead&target_id=\(company)").ids() == [])
        }
    }

    @Test(arguments: TestBackend.available)
    func aTimelineHasTheRecordsChangesAndActivitiesNewestFirstOnEveryPage(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(#"{"first_name":"Ada","email":"ada@engine.example"}"#)
            var expected = 1
            for index in 0..<7 {
                _ = try await h.activity(
                    #"{"type":"note","body":"note \#(index)","targets":[{"type":"lead","id":"\#(lead)"}]}"#)
                expected += 1
                if index.isMultiple(of: 2) {
                    let reply = try await h.call(.patch, "/api/v1/crm/leads/\(lead)", json: #"{"score":\#(index + 1)}"#)
                    #expect(reply.status == .ok)
                    expected += 1
                }
            }
            let all = try await h.timeline("/api/v1/crm/leads/\(lead)")
            #expect(all.count == expected)
            for limit in [1, 2, 3, 5] {
                let paged = try await h.timeline("/api/v1/crm/leads/\(lead)", limit: limit)
                #expect(paged.count == expected, "limit \(limit)")
                let keys = paged.map { item in
                    (item["activity"] as? [String: Any])?["id"] as? String
                        ?? ((item["change"] as? [String: Any]).map { "\($0["action"]!)\(String(describing: $0["changes"]))" }
                            ?? "")
                }
                #expect(Set(keys).count == expected, "limit \(limit): no item twice")
                let times = paged.compactMap { $0["at"] as? String }
                #expect(times == times.sorted(by: >), "limit \(limit): newest first")
            }
            let updates = all.compactMap { $0["change"] as? [String: Any] }.filter {
                $0["action"] as? String == "crm.lead.updated"
            }
            #expect(updates.count == 4)
            let score = try #require((updates.first?["changes"] as? [String: Any])?["score"] as? [String: Any])
            #expect(score["after"] as? Int == 7)
        }
    }

    @Test(arguments: TestBackend.available)
    func badActivitiesAreRefusedNamingEveryField(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(#"{"first_name":"Ada"}"#)
            let missing = try await h.call(.post, "/api/v1/crm/activities", json: #"{}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(try missing.errorFields() == ["subject", "type"])
            let bad = try await h.call(
                .post, "/api/v1/crm/activities",
                json: #"{"type":"call","subject":"x","done":true,"due_at":"tomorrow","remind_at":"2001-01-01T00:00:00Z","duration_minutes":-1,"targets":[{"type":"lead"}]}"#)
            #expect(bad.status == .unprocessableContent, "\(bad.body)")
            #expect(try bad.errorFields() == ["done", "due_at", "duration_minutes", "remind_at", "targets"])
            let unknownTarget = try await h.call(
                .post, "/api/v1/crm/activities",
                json: #"{"type":"note","body":"x","targets":[{"type":"lead","id":"\#(lead)"},{"type":"contact","id":"\#(lead)"}]}"#)
            #expect(unknownTarget.status == .unprocessableContent)
            #expect(try unknownTarget.errorFields() == ["targets[1]"])
            let unknownField = try await h.call(.post, "/api/v1/crm/activities", json: #"{"type":"note","body":"x","colour":"red"}"#)
            #expect(unknownField.status == .badRequest)
            #expect(try await h.call(.get, "/api/v1/crm/activities?status=later&sort=name").status == .badRequest)
            #expect(try await h.call(.get, "/api/v1/crm/activities?cursor=bm9wZQ").status == .badRequest)
            #expect(try await h.call(.get, "/api/v1/crm/activities").ids() == [])
        }
    }

    @Test(arguments: TestBackend.available)
    func permissionsDecideWhoReadsWritesAndDeletes(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(#"{"first_name":"Ada"}"#)
            let deal = try #require(
                try await h.deal(#"{"name":"D","value":{"amount_minor":1,"currency":"EUR"}}"#)["id"] as? String)
            let note = #"{"type":"note","body":"hello","targets":[{"type":"lead","id":"\#(lead)"}]}"#
            #expect(try await h.call(.post, "/api/v1/crm/activities", json: note, auth: CRMHarness.reader).status == .forbidden)
            #expect(try await h.call(.get, "/api/v1/crm/activities", auth: CRMHarness.reader).status == .ok)
            // Writing about a deal needs the deals permission too.
            let aboutDeal = #"{"type":"note","body":"x","targets":[{"type":"deal","id":"\#(deal)"}]}"#
            #expect(
                try await h.call(.post, "/api/v1/crm/activities", json: aboutDeal, auth: CRMHarness.writer).status
                    == .forbidden)
            // Only the author or an admin deletes.
            let mine = try await h.activity(note, auth: CRMHarness.writer)
            let ann = try await h.activity(note)
            let annID = try #require(ann["id"] as? String)
            #expect(
                try await h.call(.delete, "/api/v1/crm/activities/\(annID)", auth: CRMHarness.writer).status == .forbidden)
            let mineID = try #require(mine["id"] as? String)
            #expect(try await h.call(.delete, "/api/v1/crm/activities/\(mineID)", auth: CRMHarness.writer).status == .noContent)
            #expect(try await h.call(.delete, "/api/v1/crm/activities/\(annID)").status == .noContent)
            #expect(try await h.call(.get, "/api/v1/crm/activities/\(annID)").status == .notFound)
        }
    }

    @Test(arguments: TestBackend.available)
    func anotherTenantsActivitiesAndTimelinesAreNotFound(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(#"{"first_name":"Ada"}"#)
            let activity = try await h.activity(
                #"{"type":"task","subject":"Call back","targets":[{"type":"lead","id":"\#(lead)"}]}"#)
            let id = try #require(activity["id"] as? String)
            let olga = CRMHarness.otherAdmin
            #expect(try await h.call(.get, "/api/v1/crm/activities/\(id)", auth: olga).status == .notFound)
            #expect(
                try await h.call(.patch, "/api/v1/crm/activities/\(id)", json: #"{"done":true}"#, auth: olga).status
                    == .notFound)
            #expect(try await h.call(.delete, "/api/v1/crm/activities/\(id)", auth: olga).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/leads/\(lead)/timeline", auth: olga).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/activities", auth: olga).ids() == [])
            let aboutTheirs = try await h.call(
                .post, "/api/v1/crm/activities",
                json: #"{"type":"note","body":"x","targets":[{"type":"lead","id":"\#(lead)"}]}"#, auth: olga)
            #expect(aboutTheirs.status == .unprocessableContent)
            let unchanged = try await h.call(.get, "/api/v1/crm/activities/\(id)").object()
            #expect(unchanged["version"] as? Int == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func mentionedUsersAreNotifiedOnceAndTheAuthorNever(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(#"{"first_name":"Ada"}"#)
            let body = "Ask @[Bob](user:\(Self.bob)) and me @[Ann](user:\(CRMHarness.annID)) about pricing"
            let ann = "Bearer test:\(CRMHarness.annID):" + Permission.crmAll.map(\.description).joined(separator: ",")
            let note = try await h.activity(
                #"{"type":"note","body":"\#(body)","targets":[{"type":"lead","id":"\#(lead)"}]}"#, auth: ann)
            #expect(note["mentions"] as? [String] == [Self.bob, CRMHarness.annID])
            var notices = try await h.events(UserNotice.eventType)
            #expect(notices.map { $0["user_id"] as? String } == [Self.bob])
            #expect((notices.first?["text"] as? String)?.contains("Ask @Bob and me @Ann about pricing") == true)
            // Editing keeps Bob unnotified again; a newly mentioned user is.
            let carol = "0194a3b2-0000-7000-8000-0000000ca201"
            let id = try #require(note["id"] as? String)
            let edited = try await h.call(
                .patch, "/api/v1/crm/activities/\(id)",
                json: #"{"body":"\#(body), and @[Carol](user:\#(carol))"}"#, auth: ann)
            #expect(edited.status == .ok, "\(edited.body)")
            notices = try await h.events(UserNotice.eventType)
            #expect(notices.map { $0["user_id"] as? String } == [Self.bob, carol])
        }
    }

    @Test(arguments: TestBackend.available)
    func aReminderIsAJobThatMailsTheOwnerOnceWhenDue(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await h.lead(#"{"first_name":"Ada"}"#)
            let remindAt = Date().addingTimeInterval(3_600)
            let task = try await h.activity(
                #"{"type":"task","subject":"Send the offer","due_at":"\#(RFC3339.string(from: remindAt.addingTimeInterval(3_600)))","remind_at":"\#(RFC3339.string(from: remindAt))","owner_id":"\#(Self.bob)","targets":[{"type":"lead","id":"\#(lead)"}]}"#)
            let id = try #require(task["id"] as? String)
            var jobs = try await h.jobs(ActivityReminder.jobName)
            #expect(jobs.count == 1)
            // Due at the reminder time, not before.
            #expect(abs(try #require(jobs.first).runAt - remindAt.epochMilliseconds) < 1_000)

            let reminder = ActivityReminder(database: h.database, clock: SystemWallClock())
            let payload = JSONDocument(unchecked: try #require(jobs.first).payload)
            try await reminder.run(payload: payload, tenant: TestAuthenticator.tenant)
            try await reminder.run(payload: payload, tenant: TestAuthenticator.tenant)
            var notices = try await h.events(UserNotice.eventType)
            #expect(notices.map { $0["user_id"] as? String } == [Self.bob])
            #expect((notices.first?["subject"] as? String) == "Reminder: Send the offer")
            #expect(try await h.events("crm.activity.reminder_due").count == 1)
            let reminded = try await h.call(.get, "/api/v1/crm/activities/\(id)").object()
            #expect(!(reminded["reminded_at"] is NSNull))

            // A new time is a new reminder (the old job finds nothing to do); a done task gets none.
            let later = remindAt.addingTimeInterval(600)
            let moved = try await h.call(
                .patch, "/api/v1/crm/activities/\(id)", json: #"{"remind_at":"\#(RFC3339.string(from: later))"}"#)
            #expect(try moved.object()["reminded_at"] is NSNull)
            jobs = try await h.jobs(ActivityReminder.jobName)
            #expect(jobs.count == 2)
            try await reminder.run(payload: payload, tenant: TestAuthenticator.tenant)
            #expect(try await h.events(UserNotice.eventType).count == 1)
            let done = try await h.call(.patch, "/api/v1/crm/activities/\(id)", json: #"{"done":true}"#)
            #expect(try done.object()["done"] as? Bool == true)
            try await reminder.run(payload: JSONDocument(unchecked: jobs[1].payload), tenant: TestAuthenticator.tenant)
            notices = try await h.events(UserNotice.eventType)
            #expect(notices.count == 1)
            #expect(try await h.events("crm.activity.completed").count == 1)

            // "My open tasks by due date".
            let open = try await h.call(.get, "/api/v1/crm/activities?status=open&sort=due_at")
            #expect(try open.ids() == [])
            let finished = try await h.call(.get, "/api/v1/crm/activities?status=done&type=task")
            #expect(try finished.ids() == [id])
        }
    }

    @Test(arguments: TestBackend.available)
    func tasksListByDueDateAcrossPages(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let base = Date().addingTimeInterval(86_400)
            var ids: [String] = []
            for day in [3, 1, 2, 5, 4] {
                let due = RFC3339.string(from: base.addingTimeInterval(Double(day) * 86_400))
                let task = try await h.activity(#"{"type":"task","subject":"Day \#(day)","due_at":"\#(due)"}"#)
                ids.append(try #require(task["id"] as? String))
            }
            _ = try await h.activity(#"{"type":"note","body":"no due date"}"#)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await h.call(
                    .get, "/api/v1/crm/activities?sort=due_at&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                seen += try page.ids()
                cursor = try page.object()["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == [ids[1], ids[2], ids[0], ids[4], ids[3]])
            let before = RFC3339.string(from: base.addingTimeInterval(2.5 * 86_400))
            #expect(try await h.call(.get, "/api/v1/crm/activities?due_before=\(before)").ids().count == 2)
            #expect(try await h.call(.get, "/api/v1/crm/activities?type=note").ids().count == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func aConvertedLeadsActivitiesShowOnItsContactAndADeletedRecordLeavesTheActivity(_ backend: TestBackend)
        async throws
    {
        try await withCRM(backend) { h in
            let lead = try await ConversionTests.qualifiedLead(
                h, #"{"first_name":"Ada","email":"ada@engine.example","company":"Engines"}"#)
            let note = try await h.activity(
                #"{"type":"meeting","subject":"Demo","targets":[{"type":"lead","id":"\#(lead)"}]}"#)
            let converted = try await h.call(.post, "/api/v1/crm/leads/\(lead)/convert", json: #"{"deal":null}"#)
            #expect(converted.status == .ok, "\(converted.body)")
            let contact = try #require((try converted.object()["contact"] as? [String: Any])?["id"] as? String)
            let items = try await h.timeline("/api/v1/crm/contacts/\(contact)")
            #expect(items.contains { ($0["activity"] as? [String: Any])?["id"] as? String == note["id"] as? String })
            #expect(items.contains { ($0["change"] as? [String: Any])?["action"] as? String == "crm.lead.converted" })

            let id = try #require(note["id"] as? String)
            #expect(try await h.call(.delete, "/api/v1/crm/leads/\(lead)").status == .noContent)
            let kept = try await h.call(.get, "/api/v1/crm/activities/\(id)").object()
            #expect((kept["targets"] as? [Any])?.isEmpty == true)
            #expect(kept["version"] as? Int == 2)
        }
    }
}

@Suite struct ActivityRuleTests {
    static let bob = ActivityTests.bob

    @Test func mentionsAreWhatTheSyntaxSaysAndNothingElse() {
        #expect(Activity.mentions(in: "see @[x] and [Bob](user:\(Self.bob))").isEmpty)
        #expect(Activity.mentions(in: "@[Bob](user:\(Self.bob)) @[Bob](user:\(Self.bob.uppercased()))") == [Self.bob])
        #expect(Activity.mentions(in: "@[Bob](user:not-a-uuid)").isEmpty)
        #expect(
            Activity.plain("mail @[team] list, ask @[Bob](user:\(Self.bob)) now") == "mail @[team] list, ask @Bob now")
        let note = Activity(
            id: .generate(), kind: .note, subject: nil, body: "Call @[Bob](user:\(Self.bob))\nabout pricing",
            occurredAt: Date(), dueAt: nil, remindAt: nil, remindedAt: nil, completedAt: nil, durationMinutes: nil,
            ownerID: nil, createdBy: "ann", mentions: [], targets: [], version: 1, createdAt: Date(), updatedAt: Date())
        #expect(note.title == "Call @Bob about pricing")
    }

    @Test(arguments: TestBackend.available)
    func activitiesAboutDealsAreHiddenFromThoseWhoMayNotReadDeals(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let lead = try await ConversionTests.qualifiedLead(h, #"{"first_name":"Ada","company":"Engines"}"#)
            let converted = try await h.call(
                .post, "/api/v1/crm/leads/\(lead)/convert", json: #"{"deal":{"value":{"amount_minor":1,"currency":"EUR"}}}"#)
            let result = try converted.object()
            let deal = try #require((result["deal"] as? [String: Any])?["id"] as? String)
            let company = try #require((result["company"] as? [String: Any])?["id"] as? String)
            let about = try await h.activity(
                #"{"type":"note","body":"The price is 1 EUR","targets":[{"type":"deal","id":"\#(deal)"}]}"#)
            let id = try #require(about["id"] as? String)
            let leadsOnly = CRMHarness.writer
            #expect(try await h.call(.get, "/api/v1/crm/activities/\(id)", auth: leadsOnly).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/activities", auth: leadsOnly).ids() == [])
            #expect(try await h.call(.get, "/api/v1/crm/activities").ids() == [id])
            let companyItems = try await h.call(.get, "/api/v1/crm/companies/\(company)/timeline", auth: leadsOnly)
            #expect(!companyItems.body.contains(id))
            // A deals-only reader sees the deal's activity, not the lead it came from.
            let dealsOnly = "Bearer test:dan:crm.deals:read"
            let dealItems = try await h.call(.get, "/api/v1/crm/deals/\(deal)/timeline", auth: dealsOnly)
            #expect(dealItems.body.contains(id))
            #expect(!dealItems.body.contains("crm.lead."))
        }
    }

    @Test(arguments: TestBackend.available)
    func onlyTheAuthorOwnerOrAnAdminChangesAnActivityAndTextIsChecked(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let note = try await h.activity(#"{"type":"note","body":"mine"}"#)
            let id = try #require(note["id"] as? String)
            let other = "Bearer test:carl:crm.leads:read,crm.leads:write"
            #expect(
                try await h.call(.patch, "/api/v1/crm/activities/\(id)", json: #"{"body":"theirs"}"#, auth: other).status
                    == .forbidden)
            let given = try await h.call(.patch, "/api/v1/crm/activities/\(id)", json: #"{"owner_id":"\#(Self.bob)"}"#)
            #expect(given.status == .ok)
            let bob = "Bearer test:\(Self.bob):crm.leads:read,crm.leads:write"
            #expect(
                try await h.call(.patch, "/api/v1/crm/activities/\(id)", json: #"{"body":"owned"}"#, auth: bob).status
                    == .ok)
            // NUL is refused when the body is read (as in every module); other control characters by the activity's
            // own text rules, for the body and the subject made from it.
            let nul = try await h.call(.post, "/api/v1/crm/activities", json: #"{"type":"note","body":"a\u0000b"}"#)
            #expect(nul.status == .unprocessableContent)
            #expect(try nul.errorFields() == ["body"])
            let control = try await h.call(.post, "/api/v1/crm/activities", json: #"{"type":"note","body":"a\u0007b"}"#)
            #expect(control.status == .unprocessableContent)
            #expect(try control.errorFields() == ["body", "subject"])
        }
    }

    @Test(arguments: TestBackend.available)
    func aTaskOpenedAgainGetsItsReminderBack(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let remindAt = RFC3339.string(from: Date().addingTimeInterval(3_600))
            let task = try await h.activity(#"{"type":"task","subject":"x","done":true,"remind_at":"\#(remindAt)"}"#)
            #expect(try await h.jobs(ActivityReminder.jobName).isEmpty)
            let id = try #require(task["id"] as? String)
            #expect(try await h.call(.patch, "/api/v1/crm/activities/\(id)", json: #"{"done":false}"#).status == .ok)
            let jobs = try await h.jobs(ActivityReminder.jobName)
            #expect(jobs.count == 1)
            try await ActivityReminder(database: h.database, clock: SystemWallClock()).run(
                payload: JSONDocument(unchecked: try #require(jobs.first).payload), tenant: TestAuthenticator.tenant)
            #expect(try await h.events(UserNotice.eventType).count == 1)
        }
    }
}
