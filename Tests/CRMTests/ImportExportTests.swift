import Foundation
import Hummingbird
import Kernel
import Platform
import SQLKit
import TestSupport
import Testing

@testable import CRM

extension CRMHarness {
    /// Uploads `csv` as an import of `entity` and returns the import.
    func upload(_ csv: String, entity: String = "lead") async throws -> [String: Any] {
        let reply = try await call(
            .post, "/api/v1/crm/imports?entity=\(entity)&filename=people.csv", json: csv,
            headers: [.contentType: "text/csv"])
        #expect(reply.status == .created, "\(reply.body)")
        return try reply.object()
    }

    /// Starts import `id` with `body` and runs its job to the end; returns the import.
    func runImport(_ id: String, _ body: String) async throws -> [String: Any] {
        let started = try await call(.post, "/api/v1/crm/imports/\(id)/start", json: body)
        #expect(started.status == .accepted, "\(started.body)")
        try await ImportJob(services: services).run(
            payload: try JSONDocument(encoding: ImportJob.Payload(importID: try #require(UUID(uuidString: id)))),
            tenant: TestAuthenticator.tenant)
        // What the job queue does after a run.
        try await database.system { tx in
            try await tx.sql.raw(
                "UPDATE jobs SET status = 'succeeded' WHERE name = \(bind: ImportJob.jobName) AND status = 'queued'"
            ).run()
        }
        return try await call(.get, "/api/v1/crm/imports/\(id)").object()
    }

    func leadCount() async throws -> Int {
        try await call(.get, "/api/v1/crm/leads?include_total=true&limit=1").object()["total"] as? Int ?? -1
    }
}

@Suite struct ImportExportTests {
    static let file = """
        First name,Last name,E-mail,Phone,Tags,Score
        Ada,Lovelace,ada@engine.example,+44 20 7946 0000,vip;math,90
        Charles,Babbage,charles@engine.example,,,
        Grace,Hopper,not-an-email,,,
        Alan,Turing,alan@bletchley.example,12345,,
        Known,Person,known@example.com,,,
        Ada,Again,ADA@engine.example,,,
        Katherine,Johnson,katherine@nasa.example,,,abc

        """

    static func progress(_ item: [String: Any]) -> [String: Int] {
        (item["progress"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    @Test(arguments: TestBackend.available)
    func aDryRunReportsEveryRejectedRowAndChangesNothingThenTheImportDoesIt(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            _ = try await h.lead(#"{"first_name":"Known","email":"known@example.com"}"#)
            let upload = try await h.upload(Self.file)
            let id = try #require(upload["id"] as? String)
            #expect(upload["row_count"] as? Int == 7)
            #expect(
                upload["suggested_mapping"] as? [String: String]
                    == ["First name": "first_name", "Last name": "last_name", "E-mail": "email", "Phone": "phone",
                        "Tags": "tags", "Score": "score"])
            let mapping = #"{"First name":"first_name","Last name":"last_name","E-mail":"email","Phone":"phone","Tags":"tags","Score":"score"}"#
            let dry = try await h.runImport(id, #"{"mapping":\#(mapping),"dry_run":true}"#)
            #expect(dry["status"] as? String == "done")
            // Ada and Charles; Grace's email, Alan's phone and Katherine's score are rejected; the known address
            // and the second Ada (ADA@engine.example, a duplicate of row 2 within the file) are skipped.
            #expect(Self.progress(dry) == ["processed": 7, "created": 2, "updated": 0, "skipped": 2, "rejected": 3])
            #expect(try await h.leadCount() == 1)
            let errors = try await h.call(.get, "/api/v1/crm/imports/\(id)/errors").object()["data"] as? [[String: Any]] ?? []
            #expect(errors.map { "\($0["row"]!):\($0["field"]!)" } == ["4:email", "5:phone", "8:score"])

            let real = try await h.runImport(id, #"{"mapping":\#(mapping),"dry_run":false}"#)
            #expect(Self.progress(real) == ["processed": 7, "created": 2, "updated": 0, "skipped": 2, "rejected": 3])
            #expect(try await h.leadCount() == 3)
            let ada = try #require(
                (try await h.call(.get, "/api/v1/crm/leads?email=ada@engine.example").object()["data"] as? [[String: Any]])?
                    .first)
            #expect(ada["source"] as? String == "import")
            #expect(ada["tags"] as? [String] == ["vip", "math"])
            #expect(ada["score"] as? Int == 90)
            #expect(ada["phone"] as? String == "+442079460000")
            #expect(ada["owner_id"] as? String == "ann")
            #expect(try await h.events("crm.import.completed").count == 2)
            #expect(try await h.events(UserNotice.eventType).count == 2)
            // Run already: once only.
            #expect(
                try await h.call(.post, "/api/v1/crm/imports/\(id)/start", json: #"{"mapping":\#(mapping)}"#).status
                    == .conflict)

            // The same file again creates nothing; with updates, a changed row updates its record.
            let again = try #require(try await h.upload(Self.file)["id"] as? String)
            let second = try await h.runImport(again, #"{"mapping":\#(mapping)}"#)
            #expect(Self.progress(second)["created"] == 0)
            #expect(Self.progress(second)["skipped"] == 4)
            #expect(try await h.leadCount() == 3)
            let changed = try #require(
                try await h.upload(Self.file.replacingOccurrences(of: "Charles,Babbage", with: "Charles,Babbage-King"))["id"]
                    as? String)
            let third = try await h.runImport(changed, #"{"mapping":\#(mapping),"on_duplicate":"update"}"#)
            // Charles (changed), Known and the second Ada update their records; the first Ada is the same row as before.
            #expect(Self.progress(third)["updated"] == 3)
            #expect(try await h.leadCount() == 3)
            #expect(try await h.auditActions().contains("crm.lead.updated"))
        }
    }

    @Test(arguments: TestBackend.available)
    func anInterruptedImportResumesAfterItsLastBatchWithoutDuplicates(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let rows = (0..<450).map { "Person,\($0),p\($0)@example.com" }.joined(separator: "\n")
            let upload = try await h.upload("First name,Last name,Email\n" + rows)
            let id = try #require(upload["id"] as? String)
            let started = try await h.call(
                .post, "/api/v1/crm/imports/\(id)/start",
                json: #"{"mapping":{"First name":"first_name","Last name":"last_name","Email":"email"}}"#)
            #expect(started.status == .accepted)
            // The first batch commits, then the process "dies".
            let uuid = try #require(UUID(uuidString: id))
            try await h.database.write(tenant: TestAuthenticator.tenant) { tx in
                var item = try #require(try await ImportStore().find(uuid, in: tx))
                item.status = .running
                let parsed = Array(try CSV.parse(try #require(try await ImportStore().content(of: uuid, in: tx))).dropFirst())
                _ = try await ImportJob.importBatch(
                    Array(parsed[0..<CRMImport.batchSize]), firstRow: 0, of: item, now: Date(), in: tx)
            }
            #expect(try await h.leadCount() == 200)
            let mid = try await h.call(.get, "/api/v1/crm/imports/\(id)").object()
            #expect(Self.progress(mid)["processed"] == 200)
            // The job runs again (a retry after the crash) and finishes the rest.
            try await ImportJob(services: h.services).run(
                payload: try JSONDocument(encoding: ImportJob.Payload(importID: uuid)), tenant: TestAuthenticator.tenant)
            let done = try await h.call(.get, "/api/v1/crm/imports/\(id)").object()
            #expect(done["status"] as? String == "done")
            #expect(Self.progress(done)["created"] == 450)
            #expect(try await h.leadCount() == 450)

            // Exported, every page of it (500 a read), in the list's order.
            let export = try await h.call(.get, "/api/v1/crm/leads/export?sort=created_at")
            #expect(export.status == .ok)
            #expect(export.headers[.contentType] == "text/csv; charset=utf-8")
            let records = try CSV.parse(export.body)
            #expect(records.count == 451)
            let email = try #require(records[0].firstIndex(of: "email"))
            #expect(Set(records.dropFirst().map { $0[email] }).count == 450)
        }
    }

    @Test(arguments: TestBackend.available)
    func aRowTheDatabaseWouldRefuseIsRejectedAloneAndNumbersMustBeFinite(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let field = try await h.call(
                .post, "/api/v1/crm/custom-fields", json: #"{"entity":"lead","key":"budget","label":"Budget","type":"number"}"#)
            #expect(field.status == .created, "\(field.body)")
            let id = try #require(
                try await h.upload("Email,Budget\na@example.com,12.5\nb@example.com,nan\nc@example.com,1e999\nd@example.com,7")["id"]
                    as? String)
            let done = try await h.runImport(id, #"{"mapping":{"Email":"email","Budget":"cf.budget"}}"#)
            #expect(ImportExportTests.progress(done)["created"] == 2)
            #expect(ImportExportTests.progress(done)["rejected"] == 2)
            #expect(done["status"] as? String == "done")
        }
    }

    @Test(arguments: TestBackend.available)
    func badUploadsAndStartsAreRefused(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            func upload(_ csv: String, entity: String = "lead", type: String = "text/csv") async throws -> HTTPResponse.Status {
                try await h.call(
                    .post, "/api/v1/crm/imports?entity=\(entity)", json: csv, headers: [.contentType: type]
                ).status
            }
            #expect(try await upload("a,b\n1,2", entity: "deal") == .badRequest)
            #expect(try await upload("a,b\n1,2", type: "application/json") == .unsupportedMediaType)
            #expect(try await upload("a,a\n1,2") == .unprocessableContent)
            #expect(try await upload("a,b") == .unprocessableContent)
            #expect(try await upload("a,\"b\n1,2") == .unprocessableContent)
            #expect(try await upload("a,b\n1,\u{0}") == .unprocessableContent)
            #expect(
                try await h.call(
                    .post, "/api/v1/crm/imports?entity=lead", json: "a\n1", auth: CRMHarness.reader,
                    headers: [.contentType: "text/csv"]
                ).status == .forbidden)
            let id = try #require(try await h.upload("Email,Colour\nx@example.com,red")["id"] as? String)
            let bad = try await h.call(
                .post, "/api/v1/crm/imports/\(id)/start",
                json: #"{"mapping":{"Email":"email","Colour":"colour","Missing":"phone"},"on_duplicate":"merge"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.errorFields() == ["mapping.Colour", "mapping.Missing", "on_duplicate"])
            #expect(try await h.call(.get, "/api/v1/crm/imports/\(id)", auth: CRMHarness.otherAdmin).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/crm/imports", auth: CRMHarness.otherAdmin).ids() == [])
            #expect(try await h.call(.get, "/api/v1/crm/imports").ids() == [id])
        }
    }

    @Test(arguments: TestBackend.available)
    func exportsFollowTheListsFiltersAndDefuseFormulas(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            _ = try await h.lead(#"{"first_name":"=HYPERLINK(\"http://evil\")","email":"a@example.com","phone":"+4930123456"}"#)
            let other = try await h.lead(#"{"first_name":"Bea","email":"b@example.com"}"#)
            #expect(try await h.call(.patch, "/api/v1/crm/leads/\(other)", json: #"{"status":"contacted"}"#).status == .ok)
            let export = try await h.call(.get, "/api/v1/crm/leads/export?status=new")
            let records = try CSV.parse(export.body)
            #expect(records.count == 2)
            let header = records[0]
            #expect(Array(header.prefix(4)) == ["id", "first_name", "last_name", "email"])
            let row = records[1]
            #expect(row[header.firstIndex(of: "first_name")!] == "'=HYPERLINK(\"http://evil\")")
            #expect(row[header.firstIndex(of: "phone")!] == "+4930123456")
            // Deals' money is two columns; the export needs read permission; other tenants export nothing of it.
            _ = try await h.deal(#"{"name":"D","value":{"amount_minor":1250,"currency":"EUR"}}"#)
            let deals = try CSV.parse(try await h.call(.get, "/api/v1/crm/deals/export").body)
            #expect(deals[0].contains("value.amount_minor") && deals[0].contains("value.currency"))
            #expect(deals[1][deals[0].firstIndex(of: "value.amount_minor")!] == "1250")
            #expect(try await h.call(.get, "/api/v1/crm/deals/export", auth: CRMHarness.reader).status == .forbidden)
            #expect(try CSV.parse(try await h.call(.get, "/api/v1/crm/leads/export", auth: CRMHarness.otherAdmin).body).count == 1)
            #expect(try await h.call(.get, "/api/v1/crm/leads/export?sort=colour").status == .badRequest)
            // The record route is still the record route.
            #expect(try await h.call(.get, "/api/v1/crm/leads/\(other)").status == .ok)
        }
    }

    @Test(arguments: TestBackend.available)
    func bulkChangesReportEachRecordsOutcome(_ backend: TestBackend) async throws {
        try await withCRM(backend) { h in
            let first = try await h.lead(#"{"first_name":"A"}"#)
            let second = try await h.lead(#"{"first_name":"B"}"#)
            #expect(try await h.call(.patch, "/api/v1/crm/leads/\(second)", json: #"{"status":"unqualified"}"#).status == .ok)
            let missing = UUID().uuidString.lowercased()
            let reply = try await h.call(
                .post, "/api/v1/crm/leads/bulk",
                json: #"{"ids":["\#(first)","\#(second)","\#(missing)"],"patch":{"status":"qualified","tags":["q4"]}}"#)
            #expect(reply.status == .ok, "\(reply.body)")
            let answer = try reply.object()
            let results = try #require(answer["results"] as? [[String: Any]])
            // new → qualified is not a step; neither is unqualified → qualified; the third does not exist.
            #expect(results.map { $0["status"] as? Int } == [422, 422, 404])
            let tagged = try await h.call(
                .post, "/api/v1/crm/leads/bulk", json: #"{"ids":["\#(first)","\#(second)"],"patch":{"tags":["q4"]}}"#)
            #expect(try tagged.object()["succeeded"] as? Int == 2)
            #expect(try await h.call(.get, "/api/v1/crm/leads?tag=q4").ids().count == 2)
            #expect(
                try await h.call(
                    .post, "/api/v1/crm/leads/bulk", json: #"{"ids":["\#(first)"],"delete":true}"#, auth: CRMHarness.writer
                ).status == .forbidden)
            let deleted = try await h.call(.post, "/api/v1/crm/leads/bulk", json: #"{"ids":["\#(first)","\#(second)"],"delete":true}"#)
            #expect(try deleted.object()["succeeded"] as? Int == 2)
            #expect(try await h.leadCount() == 0)
            for body in [
                #"{"ids":[]}"#, #"{"ids":["x"],"delete":true}"#, #"{"ids":["\#(first)"],"patch":{"colour":1}}"#,
                #"{"ids":["\#(first)"],"delete":true,"add_tags":["x"]}"#,
            ] {
                #expect(try await h.call(.post, "/api/v1/crm/leads/bulk", json: body).status == .unprocessableContent, "\(body)")
            }
            // Another tenant's ids are not found, one by one.
            let lead = try await h.lead(#"{"first_name":"C"}"#)
            let theirs = try await h.call(
                .post, "/api/v1/crm/leads/bulk", json: #"{"ids":["\#(lead)"],"patch":{"tags":["x"]}}"#, auth: CRMHarness.otherAdmin)
            #expect((try theirs.object()["results"] as? [[String: Any]])?.first?["status"] as? Int == 404)
        }
    }
}
