import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_webhook_endpoints`, `messaging_webhook_deliveries` and `messaging_webhook_attempts`.
struct WebhookStore: Sendable {
    func insert(_ endpoint: WebhookEndpoint, secret: String, sealedWith secrets: SecretBox, in tx: Transaction)
        async throws
    {
        let tenant = try tx.requireTenant()
        let secret = try secrets.seal(secret, in: MessagingSecrets.webhookSecret, tenant: tenant)
        try await tx.sql.raw(
            """
            INSERT INTO messaging_webhook_endpoints (tenant_id, id, url, description, event_types, secret, status,
                failure_streak, created_by, version, created_at, updated_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(endpoint.id.rawValue)), \(bind: endpoint.url),
                    \(bind: endpoint.description), \(bind: try JSONDocument.text(endpoint.eventTypes)), \(bind: secret),
                    \(bind: endpoint.status.rawValue), 0, \(bind: endpoint.createdBy), 1,
                    \(bind: endpoint.createdAt.epochMilliseconds), \(bind: endpoint.updatedAt.epochMilliseconds))
            """
        ).run()
    }

    /// Saves url, description, event types and status (re-enabling clears the failure streak).
    func update(_ endpoint: WebhookEndpoint, expectedVersion: Int, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE messaging_webhook_endpoints SET url = \(bind: endpoint.url), description = \(bind: endpoint.description),
                event_types = \(bind: try JSONDocument.text(endpoint.eventTypes)), status = \(bind: endpoint.status.rawValue),
                disabled_reason = \(bind: endpoint.disabledReason), failure_streak = \(bind: endpoint.failureStreak),
                version = version + 1, updated_at = \(bind: endpoint.updatedAt.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(endpoint.id.rawValue))
              AND version = \(bind: expectedVersion)
            RETURNING id
            """
        ).first() != nil
    }

    func find(id: ID<WebhookEndpoint>, in tx: Transaction) async throws -> WebhookEndpoint? {
        try await row(id: id, in: tx).map(Self.decode)
    }

    func row(id: ID<WebhookEndpoint>, in tx: Transaction) async throws -> (any SQLRow)? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM messaging_webhook_endpoints WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).first()
    }

    /// The secrets deliveries are signed with now: the current one, and the previous one until it expires.
    func secrets(id: ID<WebhookEndpoint>, now: Date, openedWith box: SecretBox, in tx: Transaction) async throws
        -> [String]
    {
        let tenant = try tx.requireTenant()
        guard let row = try await row(id: id, in: tx) else { return [] }
        var secrets = [
            try box.open(
                try row.decode(column: "secret", as: String.self), in: MessagingSecrets.webhookSecret, tenant: tenant)
        ]
        if let previous = try row.decode(column: "previous_secret", as: String?.self),
            let expires = try row.optionalDate("previous_secret_expires_at"), expires > now
        {
            secrets.append(try box.open(previous, in: MessagingSecrets.previousWebhookSecret, tenant: tenant))
        }
        return secrets
    }

    /// Replaces the secret; the old one stays valid (deliveries carry both signatures) until `overlapUntil`.
    func rotate(
        id: ID<WebhookEndpoint>, to secret: String, sealedWith secrets: SecretBox, overlapUntil: Date, now: Date,
        in tx: Transaction
    ) async throws -> Bool {
        let tenant = try tx.requireTenant()
        let secret = try secrets.seal(secret, in: MessagingSecrets.webhookSecret, tenant: tenant)
        return try await tx.sql.raw(
            """
            UPDATE messaging_webhook_endpoints SET previous_secret = secret, secret = \(bind: secret),
                previous_secret_expires_at = \(bind: overlapUntil.epochMilliseconds), version = version + 1,
                updated_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    func list(limit: Int, after: ID<WebhookEndpoint>?, in tx: Transaction) async throws -> [WebhookEndpoint] {
        try await tx.page(of: "messaging_webhook_endpoints", after: after?.rawValue, limit: limit).map(Self.decode)
    }

    func active(in tx: Transaction) async throws -> [WebhookEndpoint] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM messaging_webhook_endpoints WHERE tenant_id = \(tx.bind(tenant)) AND status = 'active'"
        ).all().map(Self.decode)
    }

    func delete(id: ID<WebhookEndpoint>, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        let deleted =
            try await tx.sql.raw(
                """
                DELETE FROM messaging_webhook_endpoints WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
                RETURNING id
                """
            ).first() != nil
        if deleted {
            try await tx.sql.raw(
                """
                UPDATE messaging_webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted'
                WHERE tenant_id = \(tx.bind(tenant)) AND endpoint_id = \(tx.bind(id.rawValue)) AND status = 'pending'
                """
            ).run()
        }
        return deleted
    }

    /// Adds a delivery unless this event already has one for this endpoint; returns whether it was added.
    func insert(_ delivery: WebhookDelivery, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            INSERT INTO messaging_webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, payload, status,
                attempts, created_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(delivery.id.rawValue)), \(tx.bind(delivery.endpointID.rawValue)),
                    \(bind: delivery.eventID), \(bind: delivery.eventType), \(bind: delivery.payload), 'pending', 0,
                    \(bind: delivery.createdAt.epochMilliseconds))
            ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING
            RETURNING id
            """
        ).first() != nil
    }

    func delivery(id: ID<WebhookDelivery>, in tx: Transaction) async throws -> WebhookDelivery? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM messaging_webhook_deliveries WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).first().map(Self.decodeDelivery)
    }

    func deliveries(
        endpoint: ID<WebhookEndpoint>, status: WebhookDelivery.Status?, limit: Int, before: ID<WebhookDelivery>?,
        in tx: Transaction
    ) async throws -> [WebhookDelivery] {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM messaging_webhook_deliveries WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        query.appendInterpolation(unsafeRaw: " AND endpoint_id = ")
        query.appendInterpolation(tx.bind(endpoint.rawValue))
        if let status {
            query.appendInterpolation(unsafeRaw: " AND status = ")
            query.appendInterpolation(bind: status.rawValue)
        }
        if let before {
            query.appendInterpolation(unsafeRaw: " AND id < ")
            query.appendInterpolation(tx.bind(before.rawValue))
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await tx.sql.raw(query).all().map(Self.decodeDelivery)
    }

    /// Makes a finished delivery pending again for a retry by hand (its tries count on from where they were).
    func reopen(id: ID<WebhookDelivery>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE messaging_webhook_deliveries SET status = 'pending', completed_at = NULL
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    /// Records one try and its effect on the delivery.
    func record(
        delivery: ID<WebhookDelivery>, attempt: WebhookAttempt, status: WebhookDelivery.Status, now: Date,
        in tx: Transaction
    ) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            INSERT INTO messaging_webhook_attempts (tenant_id, delivery_id, attempt, status_code, error, response_body,
                duration_ms, attempted_at)
            VALUES (\(tx.bind(tenant)), \(tx.bind(delivery.rawValue)), \(bind: attempt.attempt), \(bind: attempt.statusCode),
                    \(bind: attempt.error), \(bind: attempt.responseBody), \(bind: attempt.durationMilliseconds),
                    \(bind: attempt.attemptedAt.epochMilliseconds))
            ON CONFLICT (tenant_id, delivery_id, attempt) DO NOTHING
            """
        ).run()
        let completed: Int64? = status == .pending ? nil : now.epochMilliseconds
        try await tx.sql.raw(
            """
            UPDATE messaging_webhook_deliveries SET status = \(bind: status.rawValue), attempts = \(bind: attempt.attempt),
                last_status_code = \(bind: attempt.statusCode), last_error = \(bind: attempt.error),
                completed_at = \(bind: completed)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(delivery.rawValue))
            """
        ).run()
    }

    func attempts(delivery: ID<WebhookDelivery>, in tx: Transaction) async throws -> [WebhookAttempt] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM messaging_webhook_attempts
            WHERE tenant_id = \(tx.bind(tenant)) AND delivery_id = \(tx.bind(delivery.rawValue)) ORDER BY attempt
            """
        ).all().map { row in
            WebhookAttempt(
                attempt: try row.decode(column: "attempt", as: Int.self),
                statusCode: try row.decode(column: "status_code", as: Int?.self),
                error: try row.decode(column: "error", as: String?.self),
                responseBody: try row.decode(column: "response_body", as: String?.self),
                durationMilliseconds: try row.decode(column: "duration_ms", as: Int.self),
                attemptedAt: try row.date("attempted_at"))
        }
    }

    /// Counts a delivery's final outcome on its endpoint: success resets the streak; a failure lengthens it and,
    /// at `threshold`, disables the endpoint. Returns true when this call disabled it.
    func settle(endpoint: ID<WebhookEndpoint>, succeeded: Bool, threshold: Int, now: Date, in tx: Transaction)
        async throws -> Bool
    {
        let tenant = try tx.requireTenant()
        if succeeded {
            try await tx.sql.raw(
                """
                UPDATE messaging_webhook_endpoints SET failure_streak = 0
                WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(endpoint.rawValue))
                """
            ).run()
            return false
        }
        let row = try await tx.sql.raw(
            """
            UPDATE messaging_webhook_endpoints SET failure_streak = failure_streak + 1
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(endpoint.rawValue))
            RETURNING failure_streak, status
            """
        ).first()
        guard let row, try row.decode(column: "status", as: String.self) == "active",
            try row.decode(column: "failure_streak", as: Int.self) >= threshold
        else { return false }
        try await tx.sql.raw(
            """
            UPDATE messaging_webhook_endpoints SET status = 'disabled',
                disabled_reason = \(bind: "\(threshold) deliveries in a row failed"), version = version + 1,
                updated_at = \(bind: now.epochMilliseconds)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(endpoint.rawValue))
            """
        ).run()
        return true
    }

    static func decode(_ row: any SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: ID(try row.decodeUUID(column: "id")), url: try row.decode(column: "url", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            eventTypes: try row.json("event_types", as: [String].self),
            status: WebhookEndpoint.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .disabled,
            disabledReason: try row.decode(column: "disabled_reason", as: String?.self),
            failureStreak: try row.decode(column: "failure_streak", as: Int.self),
            createdBy: try row.decode(column: "created_by", as: String?.self),
            version: try row.decode(column: "version", as: Int.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }

    static func decodeDelivery(_ row: any SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: ID(try row.decodeUUID(column: "id")), endpointID: ID(try row.decodeUUID(column: "endpoint_id")),
            eventID: try row.decode(column: "event_id", as: String.self),
            eventType: try row.decode(column: "event_type", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            status: WebhookDelivery.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            attempts: try row.decode(column: "attempts", as: Int.self),
            lastStatusCode: try row.decode(column: "last_status_code", as: Int?.self),
            lastError: try row.decode(column: "last_error", as: String?.self), createdAt: try row.date("created_at"),
            completedAt: try row.optionalDate("completed_at"))
    }
}
