import Foundation
import Hummingbird
import Kernel
import Platform

/// The OpenAPI 3.1 description of Messaging's API, at `/api/v1/messaging/openapi.json`. `MessagingOpenAPITests`
/// holds it to the registered routes.
enum MessagingOpenAPI {
    typealias S = OpenAPI.Schema
    typealias Op = OpenAPI.Operation
    typealias P = OpenAPI.Parameter

    static let base = MessagingAPI.base

    static func page(_ item: String) -> S {
        .object(
            ["data": .array(.reference(item)), "next_cursor": .nullable(.string())], required: ["data", "next_cursor"])
    }

    static let time = S.string(format: "date-time")
    static let uuid = S.string(format: "uuid")

    static let schemas: [String: S] = [
        "Template": .object(
            [
                "id": uuid, "key": .string(), "locale": .string(), "name": .string(), "subject": .string(),
                "html": .nullable(.string()), "text": .string(), "version": .integer, "created_at": time,
                "updated_at": time,
            ], required: ["id", "key", "locale", "name", "subject", "text", "version"]),
        "Rendered": .object(["subject": .string(), "text": .string(), "html": .nullable(.string())]),
        "Contact": .object(
            [
                "id": uuid, "email": .string(format: "email"), "name": .nullable(.string()),
                "locale": .nullable(.string()), "attributes": .map(.any), "created_at": time, "updated_at": time,
            ], required: ["id", "email", "attributes"]),
        "Segment": .object(
            [
                "conditions": .array(
                    .object(
                        [
                            "field": .string(description: "email, name, locale or attributes.<name>"),
                            "op": .enumeration(Segment.Condition.Operator.allCases.map(\.rawValue)), "value": .any,
                        ], required: ["field", "op"]))
            ], required: ["conditions"]),
        "List": .object(
            [
                "id": uuid, "name": .string(), "description": .string(), "segment": .nullable(.reference("Segment")),
                "member_count": .nullable(.integer), "created_at": time, "updated_at": time,
            ], required: ["id", "name", "description"]),
        "Campaign": .object(
            [
                "id": uuid, "name": .string(), "list_id": uuid, "template_key": .string(),
                "status": .enumeration(Campaign.Status.allCases.map(\.rawValue)), "scheduled_at": .nullable(time),
                "started_at": .nullable(time), "finished_at": .nullable(time), "rate_per_minute": .integer,
                "batch_size": .integer, "created_by": .nullable(.string()), "version": .integer, "created_at": time,
                "updated_at": time,
            ], required: ["id", "name", "list_id", "template_key", "status", "version"]),
        "Results": .object(
            [
                "recipients": .integer, "queued": .integer, "sent": .integer, "failed": .integer, "bounced": .integer,
                "suppressed": .integer, "cancelled": .integer, "opened": .integer, "clicked": .integer,
                "unsubscribed": .integer,
            ]),
        "Message": .object(
            [
                "id": uuid, "campaign_id": .nullable(uuid), "contact_id": .nullable(uuid),
                "email": .string(format: "email"), "name": .nullable(.string()), "locale": .nullable(.string()),
                "template_key": .string(), "data": .any,
                "status": .enumeration(EmailMessage.Status.allCases.map(\.rawValue)), "attempts": .integer,
                "error": .nullable(.string()), "subject": .nullable(.string()), "created_at": time,
                "sent_at": .nullable(time), "opened_at": .nullable(time), "open_count": .integer,
                "clicked_at": .nullable(time), "click_count": .integer, "unsubscribed_at": .nullable(time),
            ], required: ["id", "email", "template_key", "status"]),
        "Suppression": .object(
            [
                "email": .string(format: "email"), "reason": .enumeration(Suppression.Reason.allCases.map(\.rawValue)),
                "detail": .nullable(.string()), "created_at": time,
            ], required: ["email", "reason"]),
        "Settings": .object(
            [
                "from_name": .nullable(.string()), "from_address": .nullable(.string(format: "email")),
                "reply_to": .nullable(.string(format: "email")), "default_locale": .string(),
                "brand": .object(
                    [
                        "name": .string(), "color": .string(description: "#rrggbb"), "logo_url": .string(format: "uri"),
                        "footer": .string(), "postal_address": .string(),
                    ]),
            ]),
        "WebhookEndpoint": .object(
            [
                "id": uuid, "url": .string(format: "uri"), "description": .string(),
                "event_types": .array(.string()), "status": .enumeration(["active", "disabled"]),
                "disabled_reason": .nullable(.string()), "failure_streak": .integer,
                "created_by": .nullable(.string()), "version": .integer, "created_at": time, "updated_at": time,
                "secret": .string(description: "only on creation and rotation (whsec_...)"),
            ], required: ["id", "url", "event_types", "status", "version"]),
        "WebhookDelivery": .object(
            [
                "id": uuid, "endpoint_id": uuid, "event_id": .string(), "event_type": .string(),
                "payload": .string(), "status": .enumeration(WebhookDelivery.Status.allCases.map(\.rawValue)),
                "attempts": .integer, "last_status_code": .nullable(.integer), "last_error": .nullable(.string()),
                "created_at": time, "completed_at": .nullable(time),
                "attempts_log": .array(
                    .object([
                        "attempt": .integer, "status_code": .nullable(.integer), "error": .nullable(.string()),
                        "response_body": .nullable(.string()), "duration_ms": .integer, "attempted_at": time,
                    ])),
            ], required: ["id", "endpoint_id", "event_id", "status"]),
        "Job": .object(
            [
                "id": .string(), "name": .string(), "tenant": .nullable(uuid), "priority": .integer,
                "status": .enumeration(OperationsService.statuses), "run_at": time, "attempts": .integer,
                "max_attempts": .integer, "unique_key": .nullable(.string()), "last_error": .nullable(.string()),
            ], required: ["id", "name", "status"]),
        "DeadLetter": .object(
            [
                "group": .string(), "event_id": .string(), "type": .string(), "aggregate": .string(), "tenant": uuid,
                "attempts": .integer, "last_error": .string(), "dead_at": time,
            ], required: ["group", "event_id", "type"]),
    ]

    static var operations: [Op] {
        let id = P.path("id", "the record's id")
        // API.md's optimistic concurrency: the ETag read (`W/"<version>"`); a body's `version` is the same check.
        let ifMatch = P.header("If-Match", "the ETag read; 412 when the resource changed since")
        let stale = [412: "If-Match (or the body's version) names an older version"]
        func read(_ permission: Permission) -> OpenAPI.Security { .bearer(permission) }
        let templateBody = S.object(
            [
                "key": .string(), "locale": .string(), "name": .string(), "subject": .string(), "html": .string(),
                "text": .string(), "version": .integer,
            ], required: ["key", "name", "subject", "text"])
        let previewBody = S.object(["subject": .string(), "html": .string(), "text": .string(), "data": .map(.any)])
        let contactBody = S.object(
            [
                "email": .string(format: "email"), "name": .string(), "locale": .string(), "attributes": .map(.any),
            ], required: ["email"])
        let listBody = S.object(
            ["name": .string(), "description": .string(), "segment": .reference("Segment")], required: ["name"])
        let campaignBody = S.object(
            [
                "name": .string(), "list_id": uuid, "template_key": .string(), "rate_per_minute": .integer,
                "batch_size": .integer, "version": .integer,
            ], required: ["name", "list_id", "template_key"])
        let webhookBody = S.object(
            [
                "url": .string(format: "uri"), "description": .string(), "event_types": .array(.string()),
                "status": .enumeration(["active", "disabled"]), "version": .integer,
            ], required: ["url", "event_types"])
        return [
            Op(.get, "\(base)/openapi.json", "This document", security: .none, schema: .any),
            // Templates
            Op(
                .get, "\(base)/templates", "List templates", security: read(.messagingTemplatesRead),
                parameters: P.paging, schema: page("Template")),
            Op(
                .post, "\(base)/templates", "Create a template", security: read(.messagingTemplatesWrite),
                body: templateBody, success: 201, "Created", schema: .reference("Template")),
            Op(
                .post, "\(base)/templates/preview", "Render template parts with sample data",
                security: read(.messagingTemplatesRead), body: previewBody, schema: .reference("Rendered")),
            Op(
                .get, "\(base)/templates/{id}", "Get a template", security: read(.messagingTemplatesRead),
                parameters: [id], schema: .reference("Template")),
            Op(
                .put, "\(base)/templates/{id}", "Update a template",
                security: read(.messagingTemplatesWrite), parameters: [id, ifMatch], body: templateBody,
                schema: .reference("Template"), problems: stale),
            Op(
                .delete, "\(base)/templates/{id}", "Delete a template", security: read(.messagingTemplatesWrite),
                parameters: [id, ifMatch], success: 204, "Deleted", problems: stale),
            Op(
                .post, "\(base)/templates/{id}/preview", "Render a stored template with sample data",
                security: read(.messagingTemplatesRead), parameters: [id], body: previewBody,
                schema: .reference("Rendered")),
            // Contacts and lists
            Op(
                .get, "\(base)/contacts", "List contacts", security: read(.messagingContactsRead),
                parameters: P.paging, schema: page("Contact")),
            Op(
                .post, "\(base)/contacts", "Create or update a contact by address",
                security: read(.messagingContactsWrite), body: contactBody, success: 201, "Created (200 when updated)",
                schema: .reference("Contact"), alsoSuccess: 200),
            Op(
                .get, "\(base)/contacts/{id}", "Get a contact", security: read(.messagingContactsRead),
                parameters: [id], schema: .reference("Contact")),
            Op(
                .delete, "\(base)/contacts/{id}", "Delete a contact", security: read(.messagingContactsWrite),
                parameters: [id], success: 204, "Deleted"),
            Op(
                .get, "\(base)/lists", "List lists and segments", security: read(.messagingContactsRead),
                parameters: P.paging, schema: page("List")),
            Op(
                .post, "\(base)/lists", "Create a list or segment", security: read(.messagingContactsWrite),
                body: listBody, success: 201, "Created", schema: .reference("List")),
            Op(
                .get, "\(base)/lists/{id}", "Get a list with its member count", security: read(.messagingContactsRead),
                parameters: [id], schema: .reference("List")),
            Op(
                .put, "\(base)/lists/{id}", "Update a list", security: read(.messagingContactsWrite),
                parameters: [id], body: listBody, schema: .reference("List")),
            Op(
                .delete, "\(base)/lists/{id}", "Delete a list", security: read(.messagingContactsWrite),
                parameters: [id], success: 204, "Deleted"),
            Op(
                .get, "\(base)/lists/{id}/members", "The list's members (a segment's current matches)",
                security: read(.messagingContactsRead), parameters: [id] + P.paging, schema: page("Contact")),
            Op(
                .post, "\(base)/lists/{id}/members", "Add up to 1,000 contacts (new addresses become contacts)",
                security: read(.messagingContactsWrite), parameters: [id],
                body: .object(["contacts": .array(contactBody), "contact_ids": .array(uuid)]),
                schema: .object(["added": .integer, "contacts": .integer])),
            Op(
                .delete, "\(base)/lists/{id}/members/{contact}", "Remove a member",
                security: read(.messagingContactsWrite), parameters: [id, P.path("contact", "the contact's id")],
                success: 204, "Removed"),
            // Campaigns
            Op(
                .get, "\(base)/campaigns", "List campaigns, newest first", security: read(.messagingCampaignsRead),
                parameters: P.paging + [
                    .query("status", .enumeration(Campaign.Status.allCases.map(\.rawValue)), "one status")
                ],
                schema: page("Campaign")),
            Op(
                .post, "\(base)/campaigns", "Create a draft campaign", security: read(.messagingCampaignsWrite),
                body: campaignBody, success: 201, "Created", schema: .reference("Campaign")),
            Op(
                .get, "\(base)/campaigns/{id}", "Get a campaign", security: read(.messagingCampaignsRead),
                parameters: [id], schema: .reference("Campaign")),
            Op(
                .put, "\(base)/campaigns/{id}", "Edit a draft",
                security: read(.messagingCampaignsWrite), parameters: [id, ifMatch], body: campaignBody,
                schema: .reference("Campaign"), problems: stale),
            Op(
                .delete, "\(base)/campaigns/{id}", "Delete a draft", security: read(.messagingCampaignsWrite),
                parameters: [id, ifMatch], success: 204, "Deleted", problems: stale),
            Op(
                .post, "\(base)/campaigns/{id}/test", "Send the campaign's template to up to 10 addresses now",
                security: read(.messagingCampaignsSend), parameters: [id],
                body: .object(["to": .array(.string(format: "email"))], required: ["to"]),
                schema: .object(["messages": .array(.reference("Message"))])),
            Op(
                .post, "\(base)/campaigns/{id}/send", "Send now, or at send_at",
                security: read(.messagingCampaignsSend),
                parameters: [id], body: .object(["send_at": time]), success: 202, "Sending or scheduled",
                schema: .reference("Campaign")),
            Op(
                .post, "\(base)/campaigns/{id}/pause", "Pause sending", security: read(.messagingCampaignsSend),
                parameters: [id], schema: .reference("Campaign")),
            Op(
                .post, "\(base)/campaigns/{id}/resume", "Resume sending", security: read(.messagingCampaignsSend),
                parameters: [id], schema: .reference("Campaign")),
            Op(
                .post, "\(base)/campaigns/{id}/cancel", "Cancel (queued messages are not sent)",
                security: read(.messagingCampaignsSend), parameters: [id], schema: .reference("Campaign")),
            Op(
                .get, "\(base)/campaigns/{id}/results", "Counts of the campaign's messages",
                security: read(.messagingCampaignsRead), parameters: [id], schema: .reference("Results")),
            Op(
                .get, "\(base)/campaigns/{id}/messages", "The campaign's messages, newest first",
                security: read(.messagingMessagesRead),
                parameters: [id] + P.paging + [
                    .query("status", .enumeration(EmailMessage.Status.allCases.map(\.rawValue)), "one status")
                ],
                schema: page("Message")),
            // Messages, suppressions, settings
            Op(
                .post, "\(base)/messages", "Send one templated message (a job sends it)",
                security: read(.messagingMessagesSend),
                body: .object(
                    [
                        "template": .string(), "to": .string(description: "address or Name <address>"),
                        "name": .string(), "locale": .string(), "data": .map(.any),
                    ], required: ["template", "to"]),
                success: 202, "Queued (or suppressed)", schema: .reference("Message")),
            Op(
                .get, "\(base)/messages", "Messages, newest first", security: read(.messagingMessagesRead),
                parameters: P.paging + [
                    .query("status", .enumeration(EmailMessage.Status.allCases.map(\.rawValue)), "one status")
                ],
                schema: page("Message")),
            Op(
                .get, "\(base)/messages/{id}", "One message and its delivery status",
                security: read(.messagingMessagesRead), parameters: [id], schema: .reference("Message")),
            Op(
                .get, "\(base)/suppressions", "The suppression list", security: read(.messagingSuppressionsRead),
                parameters: P.paging + [
                    .query("reason", .enumeration(Suppression.Reason.allCases.map(\.rawValue)), "one reason")
                ],
                schema: page("Suppression")),
            Op(
                .post, "\(base)/suppressions", "Suppress an address", security: read(.messagingSuppressionsWrite),
                body: .object(
                    [
                        "email": .string(format: "email"),
                        "reason": .enumeration(Suppression.Reason.allCases.map(\.rawValue)), "detail": .string(),
                    ], required: ["email"]),
                success: 201, "Created", schema: .reference("Suppression")),
            Op(
                .delete, "\(base)/suppressions/{email}", "Remove an address from the list",
                security: read(.messagingSuppressionsWrite), parameters: [P.path("email", "the address")],
                success: 204, "Removed"),
            Op(
                .get, "\(base)/settings", "The tenant's sender and brand", security: read(.messagingTemplatesRead),
                schema: .reference("Settings")),
            Op(
                .put, "\(base)/settings", "Save the tenant's sender and brand", security: read(.messagingSettingsWrite),
                body: .reference("Settings"), schema: .reference("Settings")),
            // Webhooks
            Op(
                .get, "\(base)/webhooks", "Webhook endpoints", security: read(.messagingWebhooksRead),
                parameters: P.paging, schema: page("WebhookEndpoint")),
            Op(
                .post, "\(base)/webhooks", "Add an endpoint (the answer carries its secret)",
                security: read(.messagingWebhooksWrite), body: webhookBody, success: 201, "Created",
                schema: .reference("WebhookEndpoint")),
            Op(
                .get, "\(base)/webhooks/{id}", "One endpoint", security: read(.messagingWebhooksRead),
                parameters: [id], schema: .reference("WebhookEndpoint")),
            Op(
                .put, "\(base)/webhooks/{id}", "Edit, enable or disable an endpoint",
                security: read(.messagingWebhooksWrite), parameters: [id, ifMatch], body: webhookBody,
                schema: .reference("WebhookEndpoint"), problems: stale),
            Op(
                .delete, "\(base)/webhooks/{id}", "Delete an endpoint", security: read(.messagingWebhooksWrite),
                parameters: [id, ifMatch], success: 204, "Deleted", problems: stale),
            Op(
                .post, "\(base)/webhooks/{id}/rotate-secret", "A new secret; the old one also signs for 24 hours",
                security: read(.messagingWebhooksWrite), parameters: [id], schema: .reference("WebhookEndpoint")),
            Op(
                .get, "\(base)/webhooks/{id}/deliveries", "The delivery log, newest first",
                security: read(.messagingWebhooksRead),
                parameters: [id] + P.paging + [
                    .query("status", .enumeration(WebhookDelivery.Status.allCases.map(\.rawValue)), "one status")
                ],
                schema: page("WebhookDelivery")),
            Op(
                .get, "\(base)/webhooks/{id}/deliveries/{delivery}", "One delivery with every try",
                security: read(.messagingWebhooksRead), parameters: [id, P.path("delivery", "the delivery's id")],
                schema: .reference("WebhookDelivery")),
            Op(
                .post, "\(base)/webhooks/{id}/deliveries/{delivery}/retry", "Send a finished delivery again",
                security: read(.messagingWebhooksWrite), parameters: [id, P.path("delivery", "the delivery's id")],
                success: 202, "Queued", schema: .reference("WebhookDelivery")),
            // Live updates
            Op(
                .get, "\(base)/stream", "The tenant's events as server-sent events (Last-Event-ID replays)",
                security: .bearer(nil),
                parameters: [.query("types", .string(), "comma-separated event types or prefixes (crm.*)")],
                schema: .string(), contentType: "text/event-stream"),
            // Operations
            Op(
                .get, "\(base)/jobs", "The tenant's background jobs", security: read(.messagingOperationsRead),
                parameters: [.query("status", .enumeration(OperationsService.statuses), "one status")],
                schema: .object(["data": .array(.reference("Job"))])),
            Op(
                .post, "\(base)/jobs/{job}/retry", "Retry a failed or cancelled job",
                security: read(.messagingOperationsWrite), parameters: [P.path("job", "the job's id")], success: 204,
                "Queued again", problems: [409: "Only a failed or cancelled job is retried"]),
            Op(
                .post, "\(base)/jobs/{job}/cancel", "Cancel a queued or running job",
                security: read(.messagingOperationsWrite), parameters: [P.path("job", "the job's id")], success: 204,
                "Cancelled", problems: [409: "Only a queued or running job is cancelled"]),
            Op(
                .get, "\(base)/dead-letters", "The tenant's events a consumer gave up on",
                security: read(.messagingOperationsRead), schema: .object(["data": .array(.reference("DeadLetter"))])),
            Op(
                .post, "\(base)/dead-letters/{event}/replay", "Try a dead event again",
                security: read(.messagingOperationsWrite), parameters: [P.path("event", "the event's id")],
                success: 204, "Replayed"),
        ]
    }

    static let document: JSONValue = OpenAPI.document(
        title: "Inopsio Messaging", version: "1",
        description:
            "Email templates, contacts and lists, campaigns with tracking, transactional mail, the suppression list, "
            + "outbound webhooks, live updates, and the tenant's jobs and dead letters.",
        operations: operations, schemas: schemas)

    static func register(on routes: RouteRegistrar) {
        routes.get("\(base)/openapi.json") { _, _ in
            try JSONResponse.make(document, headers: [.cacheControl: "public, max-age=300"])
        }
    }
}
