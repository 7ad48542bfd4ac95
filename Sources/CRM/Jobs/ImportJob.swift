import Foundation
import Kernel
import Platform

/// Runs a CSV import (`crm.import` job), `CRMImport.batchSize` rows per transaction. Each batch commits its
/// records, their events and audit entries, its rejected rows and the import's progress together, so a crash or
/// restart resumes after the last committed batch and never imports a row twice.
///
/// A row becomes a record unless it is rejected (the record would be invalid: every problem of the row is kept),
/// or its record exists: the same row imported before (by fingerprint), or a record with its email, phone or
/// domain. Such a row is skipped or, with `on_duplicate=update`, updates that record. A dry run does all of it in
/// savepoints it rolls back, so it reports what the import would do (duplicates within one batch of 200 rows
/// included, across batches not) and changes nothing. When it ends the uploader is mailed.
struct ImportJob: JobHandler {
    static let jobName = "crm.import"
    let name = ImportJob.jobName
    let services: CRMServices

    struct Payload: Codable {
        let importID: UUID

        enum CodingKeys: String, CodingKey {
            case importID = "import_id"
        }
    }

    /// False when a job of this import is still queued or running.
    @discardableResult
    static func enqueue(_ id: UUID, in tx: Transaction, now: Date) async throws -> Bool {
        var request = Jobs.Request(
            name: jobName, payload: try JSONDocument(encoding: Payload(importID: id)), tenant: try tx.requireTenant())
        request.uniqueKey = "crm.import.\(id.lowercasedString)"
        request.timeout = .seconds(3_600)
        request.priority = 3
        return try await Jobs.enqueue(request, in: tx, now: now) != nil
    }

    func run(payload: JSONDocument, tenant: TenantID?) async throws {
        guard let tenant else { return }
        let id = try JSONDecoder().decode(Payload.self, from: Data(payload.text.utf8)).importID
        let database = services.database
        let loaded = try await database.read(tenant: tenant) { tx -> (CRMImport, String)? in
            guard let item = try await ImportStore().find(id, in: tx),
                let content = try await ImportStore().content(of: id, in: tx)
            else { return nil }
            return (item, content)
        }
        guard var (item, content) = loaded, item.status == .queued || item.status == .running else { return }
        let rows: [[String]]
        do {
            rows = Array(try CSV.parse(content).dropFirst())
        } catch {
            item.status = .failed
            item.error = "\(error)"
            item.finishedAt = services.clock.now().storedPrecision
            let failed = item
            try await database.write(tenant: tenant) { tx in try await ImportStore().save(failed, in: tx) }
            return
        }
        content = ""
        if item.status == .queued {
            item.status = .running
            item.startedAt = services.clock.now().storedPrecision
            let started = item
            try await database.write(tenant: tenant) { tx in try await ImportStore().save(started, in: tx) }
        }
        do {
            while item.progress.processed < rows.count {
                try Task.checkCancellation()
                let start = item.progress.processed
                let batch = Array(rows[start..<min(start + CRMImport.batchSize, rows.count)])
                let current = item
                let now = services.clock.now().storedPrecision
                // Owners named in the file must be the tenant's users, like `owner_id` in the API (asked once a batch).
                let owners = Set(batch.compactMap { Self.values($0, of: current)["owner_id"] })
                let unknownOwners = try await services.users?.unknownUsers(owners, tenant: tenant) ?? []
                item = try await database.write(tenant: tenant) { tx in
                    try await Self.importBatch(
                        batch, firstRow: start, of: current, unknownOwners: unknownOwners, now: now, in: tx)
                }
                if !item.dryRun { await services.changed(tenant) }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // A batch that cannot commit fails the import (it may be started again: rows already imported are
            // recognised); the job's own retry would only fail the same way.
            var failed = item
            failed.status = .failed
            failed.error =
                "the import stopped after \(item.progress.processed) rows: the next batch could not be stored"
            failed.finishedAt = services.clock.now().storedPrecision
            let stored = failed
            try await database.write(tenant: tenant) { tx in try await ImportStore().save(stored, in: tx) }
            throw error
        }
        item.status = .done
        item.finishedAt = services.clock.now().storedPrecision
        let finished = item
        try await database.write(tenant: tenant) { tx in
            try await ImportStore().save(finished, in: tx)
            try await CRMEvents.append(
                "crm.import.completed", finished, entity: "import", id: finished.id.rawValue, traceparent: nil, in: tx)
            let progress = finished.progress
            let verb = finished.dryRun ? "would create" : "created"
            try await CRMEvents.append(
                UserNotice.eventType,
                UserNotice(
                    userID: finished.createdBy,
                    subject: "\(finished.dryRun ? "Dry run" : "Import") of \(finished.filename) finished",
                    text: """
                        The \(finished.dryRun ? "dry run" : "import") of \(finished.filename) (\(finished.rowCount) rows of \
                        \(finished.entity.rawValue)s) finished: \(verb) \(progress.created), \
                        \(finished.dryRun ? "would update" : "updated") \(progress.updated), skipped \(progress.skipped), \
                        rejected \(progress.rejected).

                        The rejected rows and why are listed with the import \(finished.id) in the CRM.
                        """), entity: "import", id: finished.id.rawValue, traceparent: nil, in: tx)
        }
    }

    /// Imports `rows` (the first being data row `firstRow`, counted from 0) and saves the progress; a row whose
    /// `owner_id` is one of `unknownOwners` (not a user of the tenant) is rejected.
    static func importBatch(
        _ rows: [[String]], firstRow: Int, of item: CRMImport, unknownOwners: Set<String> = [], now: Date,
        in tx: Transaction
    ) async throws -> CRMImport {
        var item = item
        var errors: [ImportStore.RowError] = []
        let definitions = try await CustomFieldStore().list(entity: item.entity, in: tx)
        if item.dryRun { try await tx.sql.raw("SAVEPOINT crm_import_dry_run").run() }
        for (offset, row) in rows.enumerated() {
            // The file's line: the header is line 1.
            let line = firstRow + offset + 2
            try await tx.sql.raw("SAVEPOINT crm_import_row").run()
            let rejectedBefore = item.progress.rejected
            do {
                if let owner = values(row, of: item)["owner_id"], unknownOwners.contains(owner) {
                    throw DomainError.validation([
                        FieldIssue(
                            field: "owner_id", code: "unknown_reference", message: "is not a user of this organisation")
                    ])
                }
                let outcome = try await importRow(row, of: item, definitions: definitions, now: now, in: tx)
                switch outcome {
                case .created: item.progress.created += 1
                case .updated: item.progress.updated += 1
                case .skipped: item.progress.skipped += 1
                }
                try await tx.sql.raw("RELEASE SAVEPOINT crm_import_row").run()
            } catch let error as DomainError {
                try await tx.sql.raw("ROLLBACK TO SAVEPOINT crm_import_row").run()
                item.progress.rejected += 1
                errors += Self.rowErrors(error, line: line)
            } catch let duplicate as any RecordStoreDuplicate {
                try await tx.sql.raw("ROLLBACK TO SAVEPOINT crm_import_row").run()
                item.progress.rejected += 1
                errors.append(ImportStore.RowError(row: line, field: duplicate.field, message: "another record has it"))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Anything else the row caused (a value the database refuses): the row is rejected, not the batch.
                try await tx.sql.raw("ROLLBACK TO SAVEPOINT crm_import_row").run()
                item.progress.rejected += 1
                errors.append(ImportStore.RowError(row: line, field: "", message: "the row could not be stored"))
            }
            // A savepoint rolled back to is still open until released (the success path released it already).
            if rejectedBefore != item.progress.rejected {
                try await tx.sql.raw("RELEASE SAVEPOINT crm_import_row").run()
            }
        }
        if item.dryRun { try await tx.sql.raw("ROLLBACK TO SAVEPOINT crm_import_dry_run").run() }
        item.progress.processed = firstRow + rows.count
        try await ImportStore().addErrors(errors, to: item.id.rawValue, in: tx)
        try await ImportStore().save(item, in: tx)
        return item
    }

    enum Outcome {
        case created, updated, skipped
    }

    static func rowErrors(_ error: DomainError, line: Int) -> [ImportStore.RowError] {
        switch error {
        case .validation(let issues):
            return issues.map { ImportStore.RowError(row: line, field: $0.field, message: $0.message) }
        default:
            return [ImportStore.RowError(row: line, field: "", message: "\(error)")]
        }
    }

    /// The row's mapped values as text (empty cells left out).
    static func values(_ row: [String], of item: CRMImport) -> [String: String] {
        var values: [String: String] = [:]
        for (index, column) in item.columns.enumerated() {
            guard let field = item.mapping[column], index < row.count else { continue }
            let value = row[index].trimmingCharacters(in: .whitespacesAndNewlines)
            if !value.isEmpty { values[field] = value }
        }
        return values
    }

    /// The record fields a row's values stand for; 422 issues for values of the wrong kind.
    static func fields(_ values: [String: String], entity: CustomField.Entity, definitions: [CustomField]) throws
        -> [String: JSONValue]
    {
        var fields: [String: JSONValue] = [:]
        var custom: [String: JSONValue] = [:]
        var issues: [FieldIssue] = []
        for (field, value) in values {
            switch field {
            case "score", "employees":
                if let number = Int64(value) {
                    fields[field] = .integer(number)
                } else {
                    issues.append(FieldIssue(field: field, code: "invalid_value", message: "a whole number"))
                }
            case "tags":
                fields[field] = .array(
                    value.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == "|" })
                        .map { .string($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 != .string("") })
            case let key where key.hasPrefix("cf."):
                let name = String(key.dropFirst(3))
                switch definitions.first(where: { $0.key == name })?.kind {
                case .number:
                    if let number = Double(value), number.isFinite {
                        custom[name] =
                            number.rounded() == number && abs(number) < 1e15 ? .integer(Int64(number)) : .number(number)
                    } else {
                        issues.append(FieldIssue(field: key, code: "invalid_value", message: "a number"))
                    }
                case .boolean:
                    switch value.lowercased() {
                    case "true", "yes", "1", "y": custom[name] = .bool(true)
                    case "false", "no", "0", "n": custom[name] = .bool(false)
                    default: issues.append(FieldIssue(field: key, code: "invalid_value", message: "true or false"))
                    }
                default:
                    custom[name] = .string(value)
                }
            default:
                fields[field] = .string(value)
            }
        }
        if !custom.isEmpty { fields["custom_fields"] = .object(custom) }
        if entity == .lead && fields["source"] == nil { fields["source"] = .string("import") }
        if !issues.isEmpty { throw DomainError.validation(issues) }
        return fields
    }

    static func importRow(
        _ row: [String], of item: CRMImport, definitions: [CustomField], now: Date, in tx: Transaction
    ) async throws -> Outcome {
        switch item.entity {
        case .lead: try await importRow(row, of: item, kind: LeadKind.kind, definitions: definitions, now: now, in: tx)
        case .contact:
            try await importRow(row, of: item, kind: ContactKind.kind, definitions: definitions, now: now, in: tx)
        case .company:
            try await importRow(row, of: item, kind: CompanyKind.kind, definitions: definitions, now: now, in: tx)
        case .deal:
            throw DomainError.validation([
                FieldIssue(field: "entity", code: "invalid_value", message: "deals are not imported")
            ])
        }
    }

    static func importRow<Record: CRMRecord>(
        _ row: [String], of item: CRMImport, kind: RecordKind<Record>, definitions: [CustomField], now: Date,
        in tx: Transaction
    ) async throws -> Outcome {
        let values = values(row, of: item)
        let fields = try fields(values, entity: item.entity, definitions: definitions)
        let fingerprint = ImportStore.fingerprint(values)
        let store = RecordStore<Record>()
        let actor = item.createdBy
        var existing: Record?
        if let id = try await ImportStore().importedRecord(item.entity, fingerprint: fingerprint, in: tx) {
            // The same row came before: nothing new in it.
            if try await store.find(id, in: tx) != nil { return .skipped }
        }
        var candidate = kind.blank(nil, now)
        try kind.apply(fields, &candidate, definitions, true)
        existing = try await store.duplicate(of: candidate, in: tx)?.existing
        if let existing {
            var outcome = Outcome.skipped
            if item.onDuplicate == .update {
                var record = existing
                try kind.apply(fields.filter { $0.key != "source" }, &record, definitions, false)
                let written = try await kind.write(
                    record, over: existing, actor: actor, now: now, trace: nil, merged: true, in: tx)
                if written.version != existing.version {
                    try await audit(
                        "crm.\(kind.name).updated", written, before: existing.fields, item: item, now: now, in: tx)
                    outcome = .updated
                }
                // Applied: the same row again is nothing new. (A skipped row is not remembered, so importing it
                // again with updates applies it.)
                try await ImportStore().remember(item.entity, fingerprint: fingerprint, record: existing.uuid, in: tx)
            }
            return outcome
        }
        let created = try await kind.create(
            fields, definitions: definitions, owner: item.defaultOwner, actor: actor, now: now, trace: nil, in: tx)
        try await audit("crm.\(kind.name).created", created, before: [:], item: item, now: now, in: tx)
        try await ImportStore().remember(item.entity, fingerprint: fingerprint, record: created.uuid, in: tx)
        return .created
    }

    static func audit<Record: CRMRecord>(
        _ action: String, _ record: Record, before: [String: JSONValue], item: CRMImport, now: Date, in tx: Transaction
    ) async throws {
        try await AuditTrail().record(
            AuditEntry(
                action: action, actor: AuditEntry.Actor(kind: "user", id: item.createdBy),
                targetType: Record.entity.rawValue, targetID: record.uuid.lowercasedString,
                changes: AuditEntry.changes(before: before, after: record.fields),
                details: ["import_id": .string(item.id.description)]),
            in: tx, at: now)
    }
}

/// A `RecordStore.Duplicate` of any kind of record (its field).
protocol RecordStoreDuplicate: Error {
    var field: String { get }
}

extension RecordStore.Duplicate: RecordStoreDuplicate {}
