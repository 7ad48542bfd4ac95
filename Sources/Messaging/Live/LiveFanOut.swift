import Foundation
import Kernel
import Logging
import Platform
import SQLKit
import ServiceLifecycle

/// The `messaging.live` consumer group: each event goes, once, to every process's live clients. On PostgreSQL it
/// is a `NOTIFY` sent with the consumer's commit, which every process `LISTEN`s for (`LiveListener`); on SQLite
/// (one process) it goes straight to the hub.
struct LiveFanOut: EventConsumer {
    static let channel = "inopsio_live"
    /// PostgreSQL refuses notification payloads of 8,000 bytes or more; larger events travel as a reference.
    static let maxPayload = 7_000
    let group = "messaging.live"
    let eventTypes = ["*"]
    let hub: LiveHub

    /// What a notification carries. Written and read by hand (`JSONWriter`, `JSONValue(parsing:)`): every event
    /// goes through here, and `Codable` re-parsed the envelope inside it both ways.
    struct Note: Encodable, JSONWritable {
        let tenant: String
        let id: String
        let type: String
        /// The envelope, or nil when too large (the listener reads it from the outbox).
        let event: JSONDocument?

        func write(to writer: inout JSONWriter) {
            writer.raw("{")
            if let event {
                writer.raw("\"event\":")
                writer.rawJSON(event.text)
                writer.raw(",")
            }
            writer.raw("\"id\":")
            writer.string(id)
            writer.raw(",\"tenant\":")
            writer.string(tenant)
            writer.raw(",\"type\":")
            writer.string(type)
            writer.raw("}")
        }

        /// A notification's payload; nil when it is not one.
        init?(payload: String) {
            guard case .object(let members)? = try? JSONValue(parsing: payload),
                case .string(let tenant)? = members["tenant"], case .string(let id)? = members["id"],
                case .string(let type)? = members["type"]
            else { return nil }
            var event: JSONDocument?
            if let value = members["event"], value != .null {
                guard let text = try? value.encodedText() else { return nil }
                event = JSONDocument(unchecked: text)
            }
            self.init(tenant: tenant, id: id, type: type, event: event)
        }

        init(tenant: String, id: String, type: String, event: JSONDocument?) {
            self.tenant = tenant
            self.id = id
            self.type = type
            self.event = event
        }
    }

    func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        try await handle(batch: [event], in: transaction)
    }

    /// A batch's notifications go in one statement, in the batch's order.
    func handle(batch events: [EventEnvelope], in transaction: Transaction) async throws {
        var notes: [String] = []
        for event in events {
            let json = try JSONDocument.text(event)
            guard let tenant = TenantID(event.tenantid) else { continue }
            switch transaction.dialect {
            case .sqlite:
                hub.publish(LiveEvent(tenant: tenant, id: event.id, type: event.type, json: json))
            case .postgres:
                var note = try JSONDocument.text(
                    Note(tenant: event.tenantid, id: event.id, type: event.type, event: JSONDocument(unchecked: json)))
                if note.utf8.count > Self.maxPayload {
                    note = try JSONDocument.text(
                        Note(tenant: event.tenantid, id: event.id, type: event.type, event: nil))
                }
                notes.append(note)
            }
        }
        guard !notes.isEmpty else { return }
        try await transaction.sql.raw(
            """
            SELECT pg_notify(\(bind: Self.channel), note)
            FROM unnest(\(bind: notes)::text[]) WITH ORDINALITY AS notes (note, position) ORDER BY position
            """
        ).run()
    }
}

/// Listens for the fan-out's notifications in this process and hands them to the hub (PostgreSQL only).
struct LiveListener: Service {
    let database: any Database
    let hub: LiveHub
    let logger: Logger

    func run() async throws {
        guard database.dialect == .postgres else { return }
        // Notifications are handed to the hub one at a time in the order they came (a task each let a record's
        // `updated` overtake its `created`, seen as events out of order in a loaded run).
        let (payloads, arrived) = AsyncStream.makeStream(of: String.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await payload in payloads { await deliver(payload) } }
            await database.listenUntilShutdown(
                channel: LiveFanOut.channel, logger: logger, lost: "live updates lost their notifications"
            ) { payload in arrived.yield(payload) }
            arrived.finish()
        }
    }

    func deliver(_ payload: String) async {
        guard let note = LiveFanOut.Note(payload: payload),
            let tenant = TenantID(note.tenant)
        else { return }
        if let event = note.event {
            hub.publish(LiveEvent(tenant: tenant, id: note.id, type: note.type, json: event.text))
            return
        }
        let id = note.id
        let json = try? await database.read(tenant: tenant) { tx -> String? in
            try await tx.sql.raw("SELECT payload::text AS payload FROM event_outbox WHERE id = \(bind: id)").first()?
                .decode(column: "payload", as: String.self)
        }
        if let json = json ?? nil { hub.publish(LiveEvent(tenant: tenant, id: id, type: note.type, json: json)) }
    }
}
