import Foundation
import Kernel
import Platform

/// The CRM OpenAPI document's schemas: the records, their inputs and the answers of the other routes.
extension CRMOpenAPI {
    static func page(_ item: String) -> S {
        .object(
            ["data": .array(.reference(item)), "next_cursor": .nullable(.string()), "total": .integer],
            required: ["data", "next_cursor"])
    }

    static let leadFields: [String: S] = [
        "first_name": .nullable(.string()), "last_name": .nullable(.string()),
        "email": .nullable(.string(format: "email")),
        "phone": .nullable(.string(description: "E.164, such as +4930123456")), "company": .nullable(.string()),
        "job_title": .nullable(.string()), "source": .string(description: "website, referral, import, manual, ..."),
        "status": .enumeration(LeadStatus.allCases.map(\.rawValue)), "score": .integer,
        "owner_id": .nullable(uuid), "tags": .array(.string()),
        "custom_fields": .map(.any), "notes": .nullable(.string()),
    ]

    static let companyFields: [String: S] = [
        "name": .string(), "domain": .nullable(.string(description: "acme.example")),
        "industry": .nullable(.string()), "employees": .nullable(.integer),
        "phone": .nullable(.string(description: "E.164")), "address": .nullable(.string()),
        "owner_id": .nullable(uuid), "tags": .array(.string()), "custom_fields": .map(.any),
        "notes": .nullable(.string()),
    ]

    static let contactFields: [String: S] = [
        "first_name": .nullable(.string()), "last_name": .nullable(.string()),
        "email": .nullable(.string(format: "email")), "phone": .nullable(.string(description: "E.164")),
        "job_title": .nullable(.string()), "company_id": .nullable(uuid), "owner_id": .nullable(uuid),
        "tags": .array(.string()), "custom_fields": .map(.any), "notes": .nullable(.string()),
    ]

    static let money = S.object(
        ["amount_minor": .integer, "currency": .string(description: "ISO 4217")],
        required: ["amount_minor", "currency"])

    static let dealFields: [String: S] = [
        "name": .string(), "value": money, "pipeline_id": uuid, "stage_id": uuid,
        "probability": .integer, "expected_close": .nullable(.string(format: "date")), "owner_id": .nullable(uuid),
        "company_id": .nullable(uuid), "contact_ids": .array(uuid), "close_reason": .nullable(.string()),
        "tags": .array(.string()), "custom_fields": .map(.any), "notes": .nullable(.string()),
    ]

    static let stage = S.object(
        [
            "id": uuid, "name": .string(), "probability": .integer,
            "kind": .enumeration(Pipeline.Stage.Kind.allCases.map(\.rawValue)), "position": .integer,
        ], required: ["id", "name", "probability", "kind", "position"])

    static let stored: [String: S] = ["id": uuid, "version": .integer, "created_at": time, "updated_at": time]

    static let target = S.object(
        ["type": .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "id": uuid], required: ["type", "id"])

    static let activityFields: [String: S] = [
        "type": .enumeration(Activity.Kind.allCases.map(\.rawValue)), "subject": .nullable(.string()),
        "body": .nullable(.string(description: "mention a user as @[Name](user:<user id>)")),
        "occurred_at": time, "due_at": .nullable(time), "remind_at": .nullable(time),
        "done": .boolean, "duration_minutes": .nullable(.integer), "owner_id": .nullable(uuid),
        "targets": .array(target),
    ]

    static let assignmentRuleFields: [String: S] = [
        "name": .string(), "position": .integer, "active": .boolean,
        "conditions": .map(
            .string(
                description: "source, company, job_title, status, tag, phone_prefix, email_domain or cf.<key>: a value")
        ),
        "method": .enumeration(AssignmentRule.Method.allCases.map(\.rawValue)), "users": .array(uuid),
    ]

    static let sums: [String: S] = ["count": .integer, "total": .array(money), "weighted": .array(money)]

    static let analytics = S.object(
        [
            "from": .string(format: "date"), "to": .string(format: "date"),
            "pipeline": .nullable(.object(["id": uuid, "name": .string()], required: ["id", "name"])),
            "pipeline_value": .array(.object(sums.merging(["stage": stage], uniquingKeysWith: { $1 }))),
            "forecast": .array(
                .object(sums.merging(["month": .string(description: "YYYY-MM")], uniquingKeysWith: { $1 }))),
            "win_rate": .object([
                "won": .integer, "lost": .integer, "rate": .nullable(.number), "won_value": .array(money),
            ]),
            "sales_cycle": .object(["deals": .integer, "average_days": .nullable(.number)]),
            "stage_velocity": .array(
                .object(["stage_id": uuid, "name": .string(), "moves": .integer, "average_days": .nullable(.number)])),
            "funnel": .nullable(
                .array(
                    .object([
                        "source": .string(), "leads": .integer, "contacted": .integer, "qualified": .integer,
                        "converted": .integer, "unqualified": .integer,
                    ]))),
            "leaderboard": .array(
                .object([
                    "owner_id": .nullable(.string()), "won": .integer, "lost": .integer, "won_value": .array(money),
                ])),
        ],
        required: [
            "from", "to", "pipeline", "pipeline_value", "forecast", "win_rate", "sales_cycle", "stage_velocity",
            "funnel", "leaderboard",
        ])

    static let schemas: [String: S] = [
        "Activity": .object(
            activityFields.merging(
                stored.merging(
                    [
                        "reminded_at": .nullable(time), "completed_at": .nullable(time), "created_by": .string(),
                        "mentions": .array(.string()),
                    ], uniquingKeysWith: { $1 }), uniquingKeysWith: { $1 }),
            required: ["id", "type", "occurred_at", "done", "targets", "mentions", "created_by", "version"]),
        "ActivityInput": .object(activityFields),
        "Attachment": .object(
            [
                "id": uuid,
                "record": .object(
                    ["type": .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "id": uuid],
                    required: ["type", "id"]),
                "name": .string(), "content_type": .string(), "size": .integer, "sha256": .string(),
                "created_by": .string(), "created_at": time, "content_url": .string(),
            ],
            required: [
                "id", "record", "name", "content_type", "size", "sha256", "created_by", "created_at", "content_url",
            ]),
        "Import": .object(
            [
                "id": uuid, "entity": .enumeration(["lead", "contact", "company"]), "filename": .string(),
                "columns": .array(.string()), "row_count": .integer,
                "status": .enumeration(CRMImport.Status.allCases.map(\.rawValue)), "dry_run": .boolean,
                "mapping": .map(.string()), "suggested_mapping": .map(.string()),
                "on_duplicate": .enumeration(CRMImport.OnDuplicate.allCases.map(\.rawValue)),
                "progress": .object(
                    [
                        "processed": .integer, "created": .integer, "updated": .integer, "skipped": .integer,
                        "rejected": .integer,
                    ], required: ["processed", "created", "updated", "skipped", "rejected"]),
                "error": .nullable(.string()), "created_by": .string(), "created_at": time,
                "started_at": .nullable(time), "finished_at": .nullable(time),
            ], required: ["id", "entity", "filename", "columns", "row_count", "status", "progress"]),
        "AssignmentRule": .object(
            assignmentRuleFields.merging(
                stored.merging(["next_index": .integer], uniquingKeysWith: { $1 }), uniquingKeysWith: { $1 }),
            required: ["id", "name", "position", "active", "conditions", "method", "users", "version"]),
        "View": .object(
            [
                "id": uuid, "owner_id": .string(), "entity": .enumeration(CustomField.Entity.allCases.map(\.rawValue)),
                "name": .string(),
                "query": .string(description: "the list's query string, such as status=new&sort=-score"),
                "shared": .boolean, "version": .integer, "created_at": time, "updated_at": time,
            ], required: ["id", "owner_id", "entity", "name", "query", "shared", "version"]),
        "TimelineItem": .object(
            [
                "type": .enumeration(["activity", "change"]), "at": time, "activity": .reference("Activity"),
                "change": .object([
                    "action": .string(),
                    "actor": .object(["kind": .string(), "id": .nullable(.string()), "name": .nullable(.string())]),
                    "record": .object(["type": .nullable(.string()), "id": .nullable(.string())]),
                    "changes": .map(.any),
                ]),
            ], required: ["type", "at"]),
        "Company": .object(
            companyFields.merging(stored, uniquingKeysWith: { $1 }),
            required: ["id", "name", "tags", "custom_fields", "version", "created_at"]),
        "CompanyInput": .object(companyFields),
        "Contact": .object(
            contactFields.merging(stored, uniquingKeysWith: { $1 }),
            required: ["id", "tags", "custom_fields", "version", "created_at"]),
        "ContactInput": .object(contactFields),
        "Lead": .object(
            leadFields.merging(stored, uniquingKeysWith: { $1 }).merging(
                [
                    "converted_at": .nullable(time), "contact_id": .nullable(uuid), "company_id": .nullable(uuid),
                    "deal_id": .nullable(uuid),
                ], uniquingKeysWith: { $1 }),
            required: ["id", "status", "source", "score", "tags", "custom_fields", "version", "created_at"]),
        "LeadInput": .object(leadFields),
        "Deal": .object(
            dealFields.merging(
                stored.merging(
                    [
                        "status": .enumeration(Deal.Status.allCases.map(\.rawValue)), "lead_id": .nullable(uuid),
                        "closed_at": .nullable(time), "stage_entered_at": time,
                    ], uniquingKeysWith: { $1 }), uniquingKeysWith: { $1 }),
            required: ["id", "name", "value", "pipeline_id", "stage_id", "status", "probability", "version"]),
        "DealInput": .object(dealFields),
        "Pipeline": .object(
            [
                "id": uuid, "name": .string(), "is_default": .boolean, "stages": .array(stage), "version": .integer,
                "created_at": time, "updated_at": time,
            ], required: ["id", "name", "is_default", "stages", "version"]),
        "StageChange": .object(
            [
                "from_stage_id": .nullable(uuid), "to_stage_id": uuid, "moved_at": time,
                "moved_by": .nullable(.string()),
            ],
            required: ["to_stage_id", "moved_at"]),
        "CustomField": .object(
            [
                "id": uuid, "entity": .enumeration(CustomField.Entity.allCases.map(\.rawValue)), "key": .string(),
                "label": .string(), "type": .enumeration(CustomField.Kind.allCases.map(\.rawValue)),
                "options": .array(.string()), "created_at": time,
            ], required: ["id", "entity", "key", "label", "type", "options", "created_at"]),
    ]
}
