import Foundation
import Kernel
import Platform
import SQLKit

/// `messaging_messages`: every email, its delivery status and what its recipient did with it.
struct MessageStore: Sendable {
    /// Inserts messages, many rows per statement; a campaign's message for a contact that already has one is
    /// skipped (materializing twice adds nothing).
    func insert(_ messages: [EmailMessage], in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        for chunk in stride(from: 0, to: messages.count, by: 200).map({ messages[$0..<min($0 + 200, messages.count)] })
        {
            var query = SQLQueryString(
                """
                INSERT INTO messaging_messages (tenant_id, id, campaign_id, contact_id, email, name, locale,
                    template_key, data, status, error, created_at) VALUES
                """)
            for (index, message) in chunk.enumerated() {
                if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                let campaign: any SQLExpression = message.campaignID.map { tx.bind($0.rawValue) } ?? SQLLiteral.null
                let contact: any SQLExpression = message.contactID.map { tx.bind($0.rawValue) } ?? SQLLiteral.null
                query.appendInterpolation(
                    """
                    (\(tx.bind(tenant)), \(tx.bind(message.id.rawValue)), \(campaign), \(contact), \(bind: message.email),
                     \(bind: message.name), \(bind: message.locale), \(bind: message.templateKey),
                     \(bind: try JSONDocument.text(message.data)), \(bind: message.status.rawValue), \(bind: message.error),
                     \(bind: message.createdAt.epochMilliseconds))
                    """ as SQLQueryString)
            }
            query.appendInterpolation(unsafeRaw: " ON CONFLICT (tenant_id, campaign_id, contact_id) DO NOTHING")
            try await tx.sql.raw(query).run()
        }
    }

    func find(id: ID<EmailMessage>, in tx: Transaction) async throws -> EmailMessage? {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            "SELECT * FROM messaging_messages WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))"
        ).first().map(Self.decode)
    }

    /// The campaign's next queued messages, oldest first.
    func queued(campaign: ID<Campaign>, limit: Int, in tx: Transaction) async throws -> [EmailMessage] {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            SELECT * FROM messaging_messages
            WHERE tenant_id = \(tx.bind(tenant)) AND campaign_id = \(tx.bind(campaign.rawValue)) AND status = 'queued'
            ORDER BY id LIMIT \(bind: limit)
            """
        ).all().map(Self.decode)
    }

    /// Takes a campaign message for sending by `run` (for two minutes), unless it is no longer queued or another
    /// run holds it: a paused-then-resumed campaign's old and new jobs never send the same message. Returns
    /// whether it is this run's to send.
    func claim(id: ID<EmailMessage>, run: String, now: Date, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        let at = now.epochMilliseconds
        return try await tx.sql.raw(
            """
            UPDATE messaging_messages SET claimed_by = \(bind: run), claimed_until = \(bind: at + 120_000)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue)) AND status = 'queued'
              AND (claimed_by IS NULL OR claimed_by = \(bind: run) OR claimed_until < \(bind: at))
            RETURNING id
            """
        ).first() != nil
    }

    /// Records the outcome of one send try. `status` stays `queued` for a transient failure (`attempts` grows).
    func record(
        id: ID<EmailMessage>, status: EmailMessage.Status, subject: String?, error: String?, now: Date,
        in tx: Transaction
    ) async throws {
        let tenant = try tx.requireTenant()
        let sentAt: Int64? = status == .sent ? now.epochMilliseconds : nil
        try await tx.sql.raw(
            """
            UPDATE messaging_messages SET status = \(bind: status.rawValue), attempts = attempts + 1,
                subject = COALESCE(\(bind: subject), subject), error = \(bind: error),
                sent_at = COALESCE(\(bind: sentAt), sent_at)
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    /// Counts an open (the first one sets `opened_at`).
    func recordOpen(id: ID<EmailMessage>, now: Date, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE messaging_messages SET open_count = open_count + 1,
                opened_at = COALESCE(opened_at, \(bind: now.epochMilliseconds))
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    /// Counts a click; a click also proves an open (images may be blocked).
    func recordClick(id: ID<EmailMessage>, now: Date, in tx: Transaction) async throws -> Bool {
        let tenant = try tx.requireTenant()
        return try await tx.sql.raw(
            """
            UPDATE messaging_messages SET click_count = click_count + 1,
                clicked_at = COALESCE(clicked_at, \(bind: now.epochMilliseconds)),
                opened_at = COALESCE(opened_at, \(bind: now.epochMilliseconds))
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            RETURNING id
            """
        ).first() != nil
    }

    func recordUnsubscribe(id: ID<EmailMessage>, now: Date, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE messaging_messages SET unsubscribed_at = COALESCE(unsubscribed_at, \(bind: now.epochMilliseconds))
            WHERE tenant_id = \(tx.bind(tenant)) AND id = \(tx.bind(id.rawValue))
            """
        ).run()
    }

    /// Marks the campaign's queued messages cancelled.
    func cancelQueued(campaign: ID<Campaign>, in tx: Transaction) async throws {
        let tenant = try tx.requireTenant()
        try await tx.sql.raw(
            """
            UPDATE messaging_messages SET status = 'cancelled'
            WHERE tenant_id = \(tx.bind(tenant)) AND campaign_id = \(tx.bind(campaign.rawValue)) AND status = 'queued'
            """
        ).run()
    }

    func results(campaign: ID<Campaign>, in tx: Transaction) async throws -> CampaignResults {
        let tenant = try tx.requireTenant()
        let rows = try await tx.sql.raw(
            """
            SELECT status, COUNT(*) AS total, COUNT(opened_at) AS opened, COUNT(clicked_at) AS clicked,
                   COUNT(unsubscribed_at) AS unsubscribed
            FROM messaging_messages
            WHERE tenant_id = \(tx.bind(tenant)) AND campaign_id = \(tx.bind(campaign.rawValue))
            GROUP BY status
            """
        ).all()
        var results = CampaignResults()
        for row in rows {
            let total = try row.decode(column: "total", as: Int.self)
            results.recipients += total
            results.opened += try row.decode(column: "opened", as: Int.self)
            results.clicked += try row.decode(column: "clicked", as: Int.self)
            results.unsubscribed += try row.decode(column: "unsubscribed", as: Int.self)
            switch EmailMessage.Status(rawValue: try row.decode(column: "status", as: String.self)) {
            case .queued: results.queued += total
            case .sent: results.sent += total
            case .failed: results.failed += total
            case .bounced: results.bounced += total
            case .suppressed: results.suppressed += total
            case .cancelled: results.cancelled += total
            case nil: break
            }
        }
        return results
    }

    func list(
        campaign: ID<Campaign>?, status: EmailMessage.Status?, limit: Int, before: ID<EmailMessage>?, in tx: Transaction
    ) async throws -> [EmailMessage] {
        let tenant = try tx.requireTenant()
        var query = SQLQueryString("SELECT * FROM messaging_messages WHERE tenant_id = ")
        query.appendInterpolation(tx.bind(tenant))
        if let campaign {
            query.appendInterpolation(unsafeRaw: " AND campaign_id = ")
            query.appendInterpolation(tx.bind(campaign.rawValue))
        }
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
        return try await tx.sql.raw(query).all().map(Self.decode)
    }

    static func decode(_ row: any SQLRow) throws -> EmailMessage {
        EmailMessage(
            id: ID(try row.decodeUUID(column: "id")),
            campaignID: try row.decodeOptionalUUID(column: "campaign_id").map(ID.init),
            contactID: try row.decodeOptionalUUID(column: "contact_id").map(ID.init),
            email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String?.self),
            locale: try row.decode(column: "locale", as: String?.self),
            templateKey: try row.decode(column: "template_key", as: String.self),
            data: try row.json("data", as: JSONValue.self),
            status: EmailMessage.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            attempts: try row.decode(column: "attempts", as: Int.self),
            error: try row.decode(column: "error", as: String?.self),
            subject: try row.decode(column: "subject", as: String?.self), createdAt: try row.date("created_at"),
            sentAt: try row.optionalDate("sent_at"), openedAt: try row.optionalDate("opened_at"),
            openCount: try row.decode(column: "open_count", as: Int.self),
            clickedAt: try row.optionalDate("clicked_at"),
            clickCount: try row.decode(column: "click_count", as: Int.self),
            unsubscribedAt: try row.optionalDate("unsubscribed_at"))
    }
}
