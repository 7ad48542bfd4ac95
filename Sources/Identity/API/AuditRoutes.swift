import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore
import Platform

/// The audit log: filtered list, CSV export and chain verification, for holders of `identity.audit:read`.
struct AuditRoutes: Sendable {
    let services: IdentityServices

    struct VerificationResult: Encodable {
        let intact: Bool
        let checked: Int
        let firstSequence: Int64?
        let problems: [String]
        enum CodingKeys: String, CodingKey {
            case intact, checked, problems
            case firstSequence = "first_sequence"
        }
    }

    func register(on routes: RouteRegistrar) {
        let base = "\(IdentityAPI.base)/audit"
        routes.get(RouterPath(base)) { request, context in try await list(request, context) }
        routes.get("\(base)/export.csv") { request, context in try await export(request, context) }
        routes.get("\(base)/verify") { _, context in try await verify(context) }
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.auditRead)
        let tenant = try context.requireTenant()
        let filter = try AuditFilter.parse(request)
        let limit = try request.pageLimit()
        let before = try request.cursorPosition().map { position in
            guard let sequence = Int64(position) else { throw Problem(status: .badRequest, detail: "bad cursor") }
            return sequence
        }
        let records = try await services.database.read(tenant: tenant) { tx in
            try await AuditTrail().list(filter: filter, limit: limit + 1, before: before, in: tx)
        }
        return try JSONResponse.make(Page(overfetched: records, limit: limit) { String($0.sequence) })
    }

    /// Every matching record, newest first, as CSV (RFC 4180), read in batches.
    func export(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(.auditRead)
        let tenant = try context.requireTenant()
        let filter = try AuditFilter.parse(request)
        var csv =
            "sequence,occurred_at,action,outcome,actor_kind,actor_id,actor_name,target_type,target_id,ip,request_id,changes,details,hash\r\n"
        var before: Int64?
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        while true {
            let cursor = before
            let batch = try await services.database.read(tenant: tenant) { tx in
                try await AuditTrail().list(filter: filter, limit: 1_000, before: cursor, in: tx)
            }
            for record in batch {
                let entry = record.entry
                let fields: [String?] = [
                    String(record.sequence), RFC3339.string(from: record.occurredAt), entry.action,
                    entry.outcome.rawValue,
                    entry.actor.kind, entry.actor.id, entry.actor.name, entry.targetType, entry.targetID, entry.ip,
                    entry.requestID, String(decoding: try encoder.encode(entry.changes), as: UTF8.self),
                    String(decoding: try encoder.encode(entry.details), as: UTF8.self), record.hash,
                ]
                csv += fields.map { Self.csvField($0 ?? "") }.joined(separator: ",") + "\r\n"
            }
            guard batch.count == 1_000, let last = batch.last else { break }
            before = last.sequence
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"audit.csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    /// Quotes a CSV field when needed, and defuses spreadsheet formulas (a field starting with =, +, - or @).
    static func csvField(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func verify(_ context: AppRequestContext) async throws -> Response {
        try context.require(.auditRead)
        let tenant = try context.requireTenant()
        let result = try await services.database.read(tenant: tenant) { tx in try await AuditTrail().verify(in: tx) }
        return try JSONResponse.make(
            VerificationResult(
                intact: result.isIntact, checked: result.checked, firstSequence: result.firstSequence,
                problems: result.problems))
    }
}
