import Foundation
import Hummingbird
import Kernel
import Platform

/// `GET /api/v1/crm/{leads|contacts|companies|deals}/export`: the records a list with the same filters and sort
/// would show, every page of them, as one CSV file (UTF-8, a header line, CRLF). Written as it is read, 500 records
/// per read; an object field becomes one column per member (`value.amount_minor`), lists are joined with `;`,
/// custom fields are `cf.<key>` columns, and a cell a spreadsheet would run as a formula is prefixed with `'`.
struct RecordExport<Record: CRMRecord>: Sendable {
    let services: CRMServices
    let kind: RecordKind<Record>
    static var pageSize: Int { 500 }

    func register(on routes: RouteRegistrar) {
        routes.get("\(kind.path)/export") { request, context in try await export(request, context) }
    }

    func export(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try context.require(kind.read)
        let tenant = try context.requireTenant()
        let entity = kind.entity
        let database = services.database
        let (query, definitions) = try await database.read(tenant: tenant) { tx in
            let definitions = try await CustomFieldStore().list(entity: entity, in: tx)
            return (try RecordListParameters.parse(request, entity: entity, definitions: definitions), definitions)
        }
        let keys = definitions.map(\.key)
        let filename = "\(kind.plural)-\(String(RFC3339.string(from: services.clock.now()).prefix(10))).csv"
        let body = ResponseBody { writer in
            var columns: [String]?
            var page = query
            while true {
                let current = page
                let records = try await database.read(tenant: tenant) { tx in
                    try await RecordStore<Record>().list(current, limit: Self.pageSize, in: tx)
                }
                var text = ""
                for record in records {
                    let row = Self.cells(record, customKeys: keys)
                    if columns == nil {
                        columns = row.map(\.0)
                        text += CSV.line(columns ?? [])
                    }
                    text += CSV.line(row.map(\.1))
                }
                if columns == nil {
                    columns = Self.cells(kind.blank(nil, Date()), customKeys: keys).map(\.0)
                    text += CSV.line(columns ?? [])
                }
                try await writer.write(ByteBuffer(string: text))
                guard records.count == Self.pageSize, let last = records.last else { break }
                page.after = last.position(in: query)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\"",
                .cacheControl: "no-store",
            ], body: body)
    }

    /// The record's columns and cells, in a fixed order: id, its fields, custom fields, created and updated.
    static func cells(_ record: Record, customKeys: [String]) -> [(String, String)] {
        var cells: [(String, String)] = [("id", record.uuid.lowercasedString)]
        let fields = record.fields
        let order = CRMImport.fields(Record.entity)
        for key in order.filter({ fields[$0] != nil })
            + fields.keys.filter({ !order.contains($0) && $0 != "custom_fields" }).sorted()
        {
            switch fields[key] {
            case .object(let members)?:
                for member in members.keys.sorted() {
                    cells.append(("\(key).\(member)", RecordCells.text(members[member])))
                }
            case let value:
                cells.append((key, RecordCells.text(value)))
            }
        }
        let custom: [String: JSONValue]
        if case .object(let values)? = fields["custom_fields"] { custom = values } else { custom = [:] }
        for key in customKeys { cells.append(("cf.\(key)", RecordCells.text(custom[key]))) }
        cells.append(("created_at", RFC3339.string(from: record.createdAt)))
        cells.append(("updated_at", RFC3339.string(from: record.updatedAt)))
        return cells
    }
}
