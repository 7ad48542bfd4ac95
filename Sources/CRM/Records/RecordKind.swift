import Foundation
import Kernel
import Platform

/// One kind of record (lead, contact, company, deal): how a body applies to it, what a write checks and adds, and
/// the create and write use cases with their events, shared by the API, the pages and the import job.
struct RecordKind<Record: CRMRecord>: Sendable {
    /// `lead`: in paths (`/leads`), events (`crm.lead.created`) and audit actions.
    let name: String
    let plural: String
    let read: Permission
    let write: Permission
    let fieldNames: Set<String>
    /// A new record before its body is applied.
    let blank: @Sendable (_ owner: String?, _ now: Date) -> Record
    /// Applies a body (merge-patch) to a record; `creating` for a new one.
    let apply:
        @Sendable (
            _ fields: [String: JSONValue], _ record: inout Record, _ definitions: [CustomField],
            _ creating: Bool
        ) throws -> Void
    /// Fills in and checks what needs the database (a contact's company exists; a deal's stage, status and
    /// probability) before every write; `before` is the stored record, `nil` when creating.
    var prepare: @Sendable (_ record: inout Record, _ before: Record?, _ tx: Transaction) async throws -> Void = {
        _, _, _ in
    }
    /// Picks an owner for a new record created without `owner_id` (leads: the assignment rules); `actor` is the
    /// principal's subject, `trace` the request's.
    var assign:
        @Sendable (_ record: inout Record, _ actor: String, _ trace: String?, _ tx: Transaction) async throws
            -> Void = { _, _, _, _ in }
    /// Events beyond `created`/`updated`/`deleted` a change commits (`crm.lead.qualified`); `before` is `nil` for
    /// a new record.
    var moreEvents: @Sendable (_ before: Record?, _ after: Record) -> [(type: String, data: any Encodable & Sendable)] =
        { _, _ in [] }
    /// Writes that go with a change, after it (a deal's stage history); `actor` is the principal's subject.
    var afterWrite:
        @Sendable (_ before: Record?, _ after: Record, _ actor: String, _ tx: Transaction) async throws
            -> Void = { _, _, _, _ in }
    /// What a deletion does to other records first (a company's contacts lose it); `trace` is the request's.
    var beforeDelete:
        @Sendable (_ record: Record, _ now: Date, _ trace: String?, _ tx: Transaction) async throws
            -> Void = { _, _, _, _ in }

    var path: String { "\(CRMPaths.api)/\(plural)" }
    var entity: CustomField.Entity { Record.entity }

    /// Creates a record from `fields` with its events (the caller records the audit entry); `owner` is the default
    /// owner, `actor` the principal's subject. `RecordStore.Duplicate` when a unique value is taken.
    func create(
        _ fields: [String: JSONValue], definitions: [CustomField], owner: String?, actor: String, now: Date,
        trace: String?, in tx: Transaction
    ) async throws -> Record {
        var created = blank(owner, now)
        try apply(fields, &created, definitions, true)
        if fields["owner_id"] == nil { try await assign(&created, actor, trace, tx) }
        try await prepare(&created, nil, tx)
        try await RecordStore<Record>().insert(created, in: tx)
        try await afterWrite(nil, created, actor, tx)
        try await CRMEvents.append(
            "crm.\(name).created", created, entity: name, id: created.uuid, traceparent: trace, in: tx)
        for event in moreEvents(nil, created) {
            try await CRMEvents.append(
                event.type, event.data, entity: name, id: created.uuid, traceparent: trace, in: tx)
        }
        return created
    }

    /// Writes `record` (edited from `stored`) with its events, unless nothing changed; returns what is stored now.
    func write(
        _ edited: Record, over stored: Record, actor: String, now: Date, trace: String?, merged: Bool,
        in tx: Transaction
    ) async throws -> Record {
        var record = edited
        guard record.fields != stored.fields else { return stored }
        record.version = stored.version + 1
        record.updatedAt = now
        try await prepare(&record, stored, tx)
        guard try await RecordStore<Record>().update(record, expectedVersion: stored.version, in: tx) else {
            throw DomainError.conflict("the \(name) was changed by another request at the same time; retry")
        }
        try await afterWrite(stored, record, actor, tx)
        let changed = RecordChanged(
            id: record.uuid.lowercasedString, changes: AuditEntry.changes(before: stored.fields, after: record.fields),
            merged: merged)
        try await CRMEvents.append(
            "crm.\(name).updated", changed, entity: name, id: record.uuid, traceparent: trace, in: tx)
        for event in moreEvents(stored, record) {
            try await CRMEvents.append(
                event.type, event.data, entity: name, id: record.uuid, traceparent: trace, in: tx)
        }
        return record
    }
}

/// The data of a `crm.<record>.updated` event.
struct RecordChanged: Encodable, Sendable {
    let id: String
    let changes: [String: AuditEntry.Change]
    let merged: Bool
}
