import Foundation
import Hummingbird
import Kernel
import Platform

/// The OpenAPI 3.1 description of the CRM's API, at `/api/v1/crm/openapi.json`. `CRMOpenAPITests` holds it to the
/// registered routes.
enum CRMOpenAPI {
    typealias S = OpenAPI.Schema
    typealias Op = OpenAPI.Operation
    typealias P = OpenAPI.Parameter

    static let base = CRMPaths.api
    static let time = S.string(format: "date-time")
    /// Each kind of record: its path, its name, the permissions to read and to change it.
    static let recordKinds: [(plural: String, name: String, read: Permission, write: Permission)] = [
        ("leads", "lead", .crmLeadsRead, .crmLeadsWrite), ("contacts", "contact", .crmLeadsRead, .crmLeadsWrite),
        ("companies", "company", .crmLeadsRead, .crmLeadsWrite), ("deals", "deal", .crmDealsRead, .crmDealsWrite),
    ]
    static let uuid = S.string(format: "uuid")

    /// The filters every record list takes.
    static let commonFilters: [P] = [
        .query("owner_id", uuid, "the owner"), .query("tag", .string(), "records with this tag"),
        .query("created_after", time, "created after"), .query("created_before", time, "created before"),
        .query("updated_after", time, "changed after"),
        .query("q", .string(), "text in names, email, company or domain"),
        .query("include_total", .enumeration(["true", "false"]), "also count every match"),
    ]

    /// The filters and sort of one kind of record's list (and export).
    static func filters(_ entity: CustomField.Entity) -> [P] {
        switch entity {
        case .lead:
            commonFilters + [
                .query("converted", .enumeration(["true", "false"]), "only converted leads, or only the others"),
                .query("status", .string(), "comma-separated statuses"), .query("source", .string(), "the source"),
                .query("email", .string(), "the email address (any case)"),
                .query("score_min", .integer, "lowest score"),
                .query("score_max", .integer, "highest score"), sort(.lead),
            ]
        case .company: commonFilters + [sort(.company)]
        case .contact:
            commonFilters + [
                .query("email", .string(), "the email address (any case)"),
                .query("company_id", uuid, "contacts of this company"), sort(.contact),
            ]
        case .deal:
            commonFilters + [
                .query("status", .string(), "comma-separated: open, won, lost"),
                .query("pipeline_id", uuid, "deals of this pipeline"), .query("stage_id", uuid, "deals in this stage"),
                .query("company_id", uuid, "deals of this company"), sort(.deal),
            ]
        }
    }

    static func sort(_ entity: CustomField.Entity) -> P {
        .query(
            "sort", .enumeration(RecordListParameters.sortFields(entity).flatMap { [$0, "-" + $0] }),
            "sort order (- first: descending); default -created_at")
    }

    /// Read, change and delete of one kind of record.
    static func recordOperations(
        _ plural: String, _ schema: String, _ name: String, read: Permission, write: Permission
    )
        -> [Op]
    {
        let id = P.path("id", "the record's id")
        let ifMatch = P.header("If-Match", "the ETag read; 412 when the record changed since")
        return [
            Op(
                .get, "\(base)/\(plural)/{id}", "One \(name)", security: .bearer(read), parameters: [id],
                schema: .reference(schema), problems: [404: "No such \(name)"]),
            Op(
                .patch, "\(base)/\(plural)/{id}", "Change a \(name) (JSON merge patch)", security: .bearer(write),
                parameters: [id, ifMatch], body: .reference("\(schema)Input"), schema: .reference(schema),
                problems: [404: "No such \(name)", 409: "Duplicate or concurrent change", 412: "Changed since read"]),
            Op(
                .delete, "\(base)/\(plural)/{id}", "Delete a \(name)", security: .bearer(.crmAdmin),
                parameters: [id, ifMatch], success: 204, "Deleted",
                problems: [404: "No such \(name)", 412: "Changed since read"]),
        ]
    }

    static let pipelineBody = S.object([
        "name": .string(), "is_default": .boolean,
        "stages": .array(
            .object(
                [
                    "id": uuid, "name": .string(), "probability": .integer,
                    "kind": .enumeration(Pipeline.Stage.Kind.allCases.map(\.rawValue)),
                ], required: ["name", "probability"])),
    ])

    static var operations: [Op] {
        let id = P.path("id", "the record's id")
        let leadFilters = Array(filters(.lead).dropFirst(commonFilters.count))
        return [
            Op(
                .get, "\(base)/leads", "Leads, filtered (also cf.<key>=value on custom fields), sorted and paged",
                security: .bearer(.crmLeadsRead), parameters: P.paging + commonFilters + leadFilters,
                schema: page("Lead")),
            Op(
                .post, "\(base)/leads", "Create a lead (409 naming the lead that has its email or phone)",
                security: .bearer(.crmLeadsWrite),
                parameters: [
                    .query("on_duplicate", .enumeration(["reject", "merge"]), "merge into the existing lead")
                ],
                body: .reference("LeadInput"), success: 201, "Created (200 when merged)", schema: .reference("Lead"),
                problems: [409: "Another lead has this email or phone"], alsoSuccess: 200),
        ] + recordOperations("leads", "Lead", "lead", read: .crmLeadsRead, write: .crmLeadsWrite) + [
            Op(
                .get, "\(base)/companies", "Companies, filtered, sorted and paged", security: .bearer(.crmLeadsRead),
                parameters: P.paging + commonFilters + [sort(.company)], schema: page("Company")),
            Op(
                .post, "\(base)/companies", "Create a company (409 naming the company that has its domain)",
                security: .bearer(.crmLeadsWrite), body: .reference("CompanyInput"), success: 201, "Created",
                schema: .reference("Company"), problems: [409: "Another company has this domain"]),
        ] + recordOperations("companies", "Company", "company", read: .crmLeadsRead, write: .crmLeadsWrite) + [
            Op(
                .get, "\(base)/contacts", "Contacts, filtered, sorted and paged", security: .bearer(.crmLeadsRead),
                parameters: P.paging + commonFilters + [
                    .query("email", .string(), "the email address (any case)"),
                    .query("company_id", uuid, "contacts of this company"), sort(.contact),
                ], schema: page("Contact")),
            Op(
                .post, "\(base)/contacts", "Create a contact (409 naming the contact that has its email)",
                security: .bearer(.crmLeadsWrite), body: .reference("ContactInput"), success: 201, "Created",
                schema: .reference("Contact"), problems: [409: "Another contact has this email"]),
        ] + recordOperations("contacts", "Contact", "contact", read: .crmLeadsRead, write: .crmLeadsWrite) + [
            Op(
                .post, "\(base)/leads/{id}/convert",
                "Convert a qualified lead into a contact, a company and a deal, once (a deal also needs crm.deals:write)",
                security: .bearer(.crmLeadsWrite),
                parameters: [id],
                body: .object(
                    [
                        "company_id": uuid,
                        "deal": .nullable(
                            .object([
                                "name": .string(), "value": money, "pipeline_id": uuid, "stage_id": uuid,
                                "probability": .integer, "expected_close": .string(format: "date"),
                            ])),
                    ], required: ["deal"]),
                schema: .object(
                    [
                        "lead": .reference("Lead"), "contact": .reference("Contact"),
                        "company": .nullable(.reference("Company")), "deal": .nullable(.reference("Deal")),
                    ], required: ["lead", "contact", "company", "deal"]),
                problems: [404: "No such lead", 409: "Converted already", 412: "Changed since read"]),
            Op(
                .post, "\(base)/public/{tenant_slug}/leads",
                "A website's contact form: a lead with source website, the tenant's admins mailed (5 per 15 minutes per IP)",
                security: .none, parameters: [P.path("tenant_slug", "the tenant's slug")],
                body: .object(
                    [
                        "first_name": .string(), "last_name": .string(), "email": .string(format: "email"),
                        "phone": .string(description: "E.164"), "company": .string(),
                        "message": .string(description: "10 to 2,000 characters"),
                        "website": .string(description: "leave empty (a field hidden from people)"),
                    ], required: ["first_name", "last_name", "email", "message"]), success: 202, "Received",
                schema: .object(["status": .string()]), problems: [404: "No such form", 429: "Too many submissions"]),
            Op(
                .get, "\(base)/deals", "Deals, filtered, sorted and paged", security: .bearer(.crmDealsRead),
                parameters: P.paging + commonFilters + [
                    .query("status", .string(), "comma-separated: open, won, lost"),
                    .query("pipeline_id", uuid, "deals of this pipeline"),
                    .query("stage_id", uuid, "deals in this stage"),
                    .query("company_id", uuid, "deals of this company"), sort(.deal),
                ], schema: page("Deal")),
            Op(
                .post, "\(base)/deals", "Create a deal (in the default pipeline's first open stage unless given)",
                security: .bearer(.crmDealsWrite), body: .reference("DealInput"), success: 201, "Created",
                schema: .reference("Deal")),
        ] + recordOperations("deals", "Deal", "deal", read: .crmDealsRead, write: .crmDealsWrite) + [
            Op(
                .get, "\(base)/deals/{id}/history", "The deal's stage moves, oldest first",
                security: .bearer(.crmDealsRead), parameters: [id],
                schema: .object(["data": .array(.reference("StageChange")), "next_cursor": .nullable(.string())]),
                problems: [404: "No such deal"]),
            Op(
                .get, "\(base)/pipelines", "The tenant's pipelines (the default one is made on first use)",
                security: .bearer(.crmDealsRead),
                schema: .object(["data": .array(.reference("Pipeline")), "next_cursor": .nullable(.string())])),
            Op(
                .post, "\(base)/pipelines", "Create a pipeline (the default stages unless given)",
                security: .bearer(.crmAdmin), body: pipelineBody, success: 201, "Created",
                schema: .reference("Pipeline")),
            Op(
                .get, "\(base)/pipelines/{id}", "One pipeline", security: .bearer(.crmDealsRead), parameters: [id],
                schema: .reference("Pipeline"), problems: [404: "No such pipeline"]),
            Op(
                .patch, "\(base)/pipelines/{id}",
                "Rename, make default, or give the stages anew (kept by id, new without, removed when left out)",
                security: .bearer(.crmAdmin), parameters: [id, P.header("If-Match", "the ETag read")],
                body: pipelineBody, schema: .reference("Pipeline"),
                problems: [404: "No such pipeline", 409: "Deals in a removed stage", 412: "Changed since read"]),
            Op(
                .delete, "\(base)/pipelines/{id}", "Delete a pipeline without deals (not the default)",
                security: .bearer(.crmAdmin), parameters: [id], success: 204, "Deleted",
                problems: [404: "No such pipeline", 409: "Default or has deals"]),
            Op(
                .get, "\(base)/pipelines/{id}/board",
                "Per stage: the number of deals, total and weighted values per currency, the latest deals",
                security: .bearer(.crmDealsRead), parameters: [id, .query("limit", .integer, "deals per stage (50)")],
                schema: .object([
                    "stages": .array(
                        .object(
                            [
                                "stage": stage, "count": .integer, "total": .array(money), "weighted": .array(money),
                                "deals": .array(.reference("Deal")),
                            ], required: ["stage", "count", "total", "weighted", "deals"]))
                ]), problems: [404: "No such pipeline"]),
            Op(
                .get, "\(base)/activities", "Calls, meetings, emails, notes and tasks, filtered, sorted and paged",
                security: .bearer(.crmLeadsRead),
                parameters: P.paging + [
                    .query("type", .string(), "comma-separated: call, meeting, email, note, task"),
                    .query("owner_id", uuid, "the owner"),
                    .query("status", .enumeration(["open", "done"]), "open tasks, or done ones"),
                    .query("due_before", time, "due before"), .query("due_after", time, "due at or after"),
                    .query("target_type", .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "about this kind"),
                    .query("target_id", uuid, "about this record (with target_type)"),
                    .query(
                        "sort", .enumeration(ActivityStore.Query.Sort.allCases.map(\.rawValue)),
                        "order; due_at lists only activities with a due date"),
                ], schema: page("Activity")),
            Op(
                .post, "\(base)/activities",
                "Record an activity (about a deal: also crm.deals:write); mentioned users and reminders are mailed",
                security: .bearer(.crmLeadsWrite), body: .reference("ActivityInput"), success: 201, "Created",
                schema: .reference("Activity")),
            Op(
                .get, "\(base)/activities/{id}", "One activity", security: .bearer(.crmLeadsRead), parameters: [id],
                schema: .reference("Activity"), problems: [404: "No such activity"]),
            Op(
                .patch, "\(base)/activities/{id}", "Change an activity (JSON merge patch; done: true completes a task)",
                security: .bearer(.crmLeadsWrite), parameters: [id, P.header("If-Match", "the ETag read")],
                body: .reference("ActivityInput"), schema: .reference("Activity"),
                problems: [404: "No such activity", 409: "Concurrent change", 412: "Changed since read"]),
            Op(
                .delete, "\(base)/activities/{id}", "Delete an activity (its author or crm.admin:manage)",
                security: .bearer(.crmLeadsWrite), parameters: [id, P.header("If-Match", "the ETag read")],
                success: 204, "Deleted", problems: [404: "No such activity", 412: "Changed since read"]),
            Op(
                .get, "\(base)/search",
                "Full-text search across leads, contacts, companies and deals (misspelt names too on PostgreSQL), best first; each kind needs its read permission (crm.deals:read for deals)",
                security: .bearer(.crmLeadsRead),
                parameters: [
                    .query("q", .string(), "the words to find (1 to 200 characters; each matches as a prefix)"),
                    .query("types", .string(), "comma-separated: lead, contact, company, deal (default all readable)"),
                    .query("limit", .integer, "at most this many, 1 to 50 (default 20)"),
                ],
                schema: .object(
                    [
                        "data": .array(
                            .object(
                                [
                                    "type": .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "id": uuid,
                                    "title": .string(), "subtitle": .string(), "rank": .number,
                                ], required: ["type", "id", "title", "subtitle", "rank"])),
                        "next_cursor": .nullable(.string()),
                    ], required: ["data", "next_cursor"])),
            Op(
                .get, "\(base)/views", "The caller's saved views and the shared ones",
                security: .bearer(.crmLeadsRead),
                parameters: [.query("entity", .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "one kind")],
                schema: .object(
                    ["data": .array(.reference("View")), "next_cursor": .nullable(.string())],
                    required: ["data", "next_cursor"])),
            Op(
                .post, "\(base)/views", "Save a view of a list (its query is checked as the list checks it)",
                security: .bearer(.crmLeadsRead),
                body: .object(
                    [
                        "entity": .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "name": .string(),
                        "query": .string(), "shared": .boolean,
                    ], required: ["entity", "name"]), success: 201, "Created", schema: .reference("View"),
                problems: [409: "A view of that name exists, or too many views"]),
            Op(
                .get, "\(base)/views/{id}", "One view", security: .bearer(.crmLeadsRead), parameters: [id],
                schema: .reference("View"), problems: [404: "No such view"]),
            Op(
                .patch, "\(base)/views/{id}", "Rename, change or share one's own view",
                security: .bearer(.crmLeadsRead),
                parameters: [id, P.header("If-Match", "the ETag read")],
                body: .object(["name": .string(), "query": .string(), "shared": .boolean]), schema: .reference("View"),
                problems: [404: "No such view", 409: "A view of that name exists", 412: "Changed since read"]),
            Op(
                .delete, "\(base)/views/{id}", "Delete a view (its owner, or a CRM admin)",
                security: .bearer(.crmLeadsRead), parameters: [id], success: 204, "Deleted",
                problems: [404: "No such view"]),
            Op(
                .get, "\(base)/assignment-rules", "The rules that pick new leads' owners, in the order they are tried",
                security: .bearer(.crmLeadsRead),
                schema: .object(
                    ["data": .array(.reference("AssignmentRule")), "next_cursor": .nullable(.string())],
                    required: ["data", "next_cursor"])),
            Op(
                .post, "\(base)/assignment-rules",
                "Add a rule: leads created without an owner that match its conditions go to its user, or round-robin to its users",
                security: .bearer(.crmAdmin),
                body: .object(assignmentRuleFields, required: ["name", "method", "users"]),
                success: 201, "Created", schema: .reference("AssignmentRule"), problems: [409: "Too many rules"]),
            Op(
                .get, "\(base)/assignment-rules/{id}", "One rule", security: .bearer(.crmLeadsRead), parameters: [id],
                schema: .reference("AssignmentRule"), problems: [404: "No such rule"]),
            Op(
                .patch, "\(base)/assignment-rules/{id}", "Change a rule (JSON merge patch)",
                security: .bearer(.crmAdmin),
                parameters: [id, P.header("If-Match", "the ETag read")], body: .object(assignmentRuleFields),
                schema: .reference("AssignmentRule"),
                problems: [
                    404: "No such rule", 409: "Changed by another request at the same time", 412: "Changed since read",
                ]),
            Op(
                .delete, "\(base)/assignment-rules/{id}", "Remove a rule", security: .bearer(.crmAdmin),
                parameters: [id], success: 204, "Removed", problems: [404: "No such rule"]),
            Op(
                .get, "\(base)/analytics",
                "A pipeline's value by stage, forecast by month, win rate, sales cycle, stage velocity, lead funnel by source and leaderboard for a period",
                security: .bearer(.crmDealsRead),
                parameters: [
                    .query("from", .string(format: "date"), "first day (UTC; default 89 days before to)"),
                    .query("to", .string(format: "date"), "last day, included (UTC; default today)"),
                    .query("pipeline_id", uuid, "the pipeline (default: the default one)"),
                ],
                schema: analytics, problems: [404: "No such pipeline"]),
            Op(
                .get, "\(base)/imports", "CSV imports, newest first", security: .bearer(.crmLeadsRead),
                parameters: P.paging, schema: page("Import")),
            Op(
                .post, "\(base)/imports",
                "Upload a CSV file (text/csv, UTF-8, a header line, up to 20 MB and 100,000 rows) to import into leads, contacts or companies",
                security: .bearer(.crmLeadsWrite),
                parameters: [
                    .query("entity", .enumeration(["lead", "contact", "company"]), "what the rows become"),
                    .query("filename", .string(), "the file's name, for people"),
                ],
                body: .string(description: "the CSV file"), bodyType: "text/csv", success: 201, "Uploaded",
                schema: .reference("Import"), problems: [413: "Larger than 20 MB", 415: "Not text/csv"]),
            Op(
                .get, "\(base)/imports/{id}", "An import and its progress", security: .bearer(.crmLeadsRead),
                parameters: [id], schema: .reference("Import"), problems: [404: "No such import"]),
            Op(
                .post, "\(base)/imports/{id}/start",
                "Run the import, or a dry run of it, with a column mapping (a job; follow its progress)",
                security: .bearer(.crmLeadsWrite), parameters: [id],
                body: .object(
                    [
                        "mapping": .map(.nullable(.string(description: "a field, or cf.<key>"))), "dry_run": .boolean,
                        "on_duplicate": .enumeration(CRMImport.OnDuplicate.allCases.map(\.rawValue)),
                    ], required: ["mapping"]),
                success: 202, "Started", schema: .reference("Import"),
                problems: [404: "No such import", 409: "Running, or run already"]),
            Op(
                .get, "\(base)/imports/{id}/errors", "The rejected rows (file line, field) and why",
                security: .bearer(.crmLeadsRead), parameters: [id] + P.paging,
                schema: .object(
                    [
                        "data": .array(
                            .object(
                                ["row": .integer, "field": .string(), "message": .string()],
                                required: ["row", "field", "message"])),
                        "next_cursor": .nullable(.string()),
                    ], required: ["data", "next_cursor"]),
                problems: [404: "No such import"]),
        ]
            + recordKinds.flatMap { plural, name, read, write in
                [
                    Op(
                        .get, "\(base)/\(plural)/export",
                        "The \(plural) a list with these filters and sort shows, all of them, as CSV",
                        security: .bearer(read), parameters: filters(CustomField.Entity(rawValue: name)!),
                        schema: .string(description: "CSV"), contentType: "text/csv"),
                    Op(
                        .post, "\(base)/\(plural)/bulk",
                        "Change (merge patch) or delete (crm.admin:manage) up to 500 \(plural), each on its own; the outcome of each",
                        security: .bearer(write),
                        body: .object(
                            [
                                "ids": .array(uuid), "patch": .reference("\(name.capitalized)Input"),
                                "add_tags": .array(.string()), "delete": .boolean,
                            ],
                            required: ["ids"]),
                        schema: .object(
                            [
                                "results": .array(
                                    .object(
                                        [
                                            "id": uuid, "status": .integer, "detail": .nullable(.string()),
                                            "errors": .nullable(.array(.any)),
                                        ], required: ["id", "status"])),
                                "succeeded": .integer, "failed": .integer,
                            ], required: ["results", "succeeded", "failed"])),
                ]
            }
            + recordKinds.map { plural, name, read, _ in
                Op(
                    .get, "\(base)/\(plural)/{id}/timeline",
                    "The \(name)'s activities and changes (also those of the lead it was made from), newest first",
                    security: .bearer(read), parameters: [id] + P.paging,
                    schema: .object(
                        ["data": .array(.reference("TimelineItem")), "next_cursor": .nullable(.string())],
                        required: ["data", "next_cursor"]),
                    problems: [404: "No such \(name)"])
            }
            + recordKinds.flatMap { plural, name, read, write in
                [
                    Op(
                        .post, "\(base)/\(plural)/{id}/attachments",
                        "Attach a file to the \(name): the body is the file, Content-Type its type (see the 415 answer's `accepted`), up to max_upload_bytes (25 MiB by default)",
                        security: .bearer(write),
                        parameters: [id, .query("name", .string(), "the file's name (default: attachment)")],
                        body: .string(format: "binary", description: "the file"), bodyType: "application/octet-stream",
                        success: 201, "Attached", schema: .reference("Attachment"),
                        problems: [
                            404: "No such \(name)", 413: "Larger than max_upload_bytes",
                            415: "A type that is not accepted, or content that is not of its type", 422: "Invalid name",
                        ]),
                    Op(
                        .get, "\(base)/\(plural)/{id}/attachments", "The \(name)'s files, newest first",
                        security: .bearer(read), parameters: [id] + P.paging, schema: page("Attachment"),
                        problems: [404: "No such \(name)"]),
                ]
            } + [
                Op(
                    .get, "\(base)/attachments/{id}", "One attached file (a deal's needs crm.deals:read)",
                    security: .bearer(.crmLeadsRead), parameters: [id], schema: .reference("Attachment"),
                    problems: [404: "No such file"]),
                Op(
                    .get, "\(base)/attachments/{id}/content",
                    "The file's bytes, as a download (a deal's needs crm.deals:read)",
                    security: .bearer(.crmLeadsRead), parameters: [id],
                    schema: .string(format: "binary", description: "the file"), contentType: "application/octet-stream",
                    problems: [404: "No such file"]),
                Op(
                    .delete, "\(base)/attachments/{id}", "Remove a file (a deal's needs crm.deals:write)",
                    security: .bearer(.crmLeadsWrite), parameters: [id], success: 204, "Removed",
                    problems: [404: "No such file"]),
                Op(
                    .get, "\(base)/custom-fields", "The tenant's custom fields", security: .bearer(.crmLeadsRead),
                    parameters: [
                        .query("entity", .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "one kind")
                    ],
                    schema: .object(["data": .array(.reference("CustomField")), "next_cursor": .nullable(.string())])),
                Op(
                    .post, "\(base)/custom-fields", "Define a custom field (at most 20 per kind of record)",
                    security: .bearer(.crmAdmin),
                    body: .object(
                        [
                            "entity": .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "key": .string(),
                            "label": .string(), "type": .enumeration(CustomField.Kind.allCases.map(\.rawValue)),
                            "options": .array(.string()),
                        ], required: ["entity", "key", "label", "type"]), success: 201, "Created",
                    schema: .reference("CustomField"), problems: [409: "The key exists or the limit is reached"]),
                Op(
                    .get, "\(base)/custom-fields/{id}", "One custom field", security: .bearer(.crmLeadsRead),
                    parameters: [id], schema: .reference("CustomField"), problems: [404: "No such custom field"]),
                Op(
                    .patch, "\(base)/custom-fields/{id}", "Rename a custom field or change its choices",
                    security: .bearer(.crmAdmin), parameters: [id],
                    body: .object(["label": .string(), "options": .array(.string())]),
                    schema: .reference("CustomField"),
                    problems: [404: "No such custom field"]),
                Op(
                    .delete, "\(base)/custom-fields/{id}", "Remove a custom field", security: .bearer(.crmAdmin),
                    parameters: [id], success: 204, "Removed", problems: [404: "No such custom field"]),
            ]
    }

    static let document: JSONValue = OpenAPI.document(
        title: "Inopsio CRM", version: "1",
        description:
            "Leads, companies, contacts and deals with typed custom fields, pipelines, lead conversion, activities, timelines and attached files.",
        operations: operations, schemas: schemas)

    static func register(on routes: RouteRegistrar) {
        routes.get("\(base)/openapi.json") { _, _ in
            try JSONResponse.make(document, headers: [.cacheControl: "public, max-age=300"])
        }
    }
}
