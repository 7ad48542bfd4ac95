import Foundation

/// A domain event as a CloudEvents 1.0 JSON envelope with the `tenantid` and `traceparent` extensions.
package struct EventEnvelope: Hashable, Sendable, Codable {
    package let specversion: String
    package let id: String
    package let source: String
    package let type: String
    package let time: String
    package let subject: String?
    package let datacontenttype: String
    package let tenantid: String
    package let traceparent: String?
    /// The event payload as a JSON document (kept as bytes so the envelope stays `Sendable` and exact).
    package let data: JSONDocument

    package init(
        id: UUID = UUID.v7(), source: String, type: String, time: Date = Date(), subject: String?,
        tenant: TenantID, traceparent: String?, data: JSONDocument
    ) {
        self.specversion = "1.0"
        self.id = id.lowercasedString
        self.source = source
        self.type = type
        self.time = RFC3339.string(from: time)
        self.subject = subject
        self.datacontenttype = "application/json"
        self.tenantid = tenant.description
        self.traceparent = traceparent
        self.data = data
    }
}

extension EventEnvelope: JSONWritable {
    /// The envelope's JSON text, as `JSONEncoder` with sorted keys writes it (absent values left out), `data`
    /// copied in as it is (a `JSONDocument` holds one JSON document).
    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"data\":")
        writer.rawJSON(data.text)
        writer.raw(",\"datacontenttype\":")
        writer.string(datacontenttype)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"source\":")
        writer.string(source)
        writer.raw(",\"specversion\":")
        writer.string(specversion)
        if let subject {
            writer.raw(",\"subject\":")
            writer.string(subject)
        }
        writer.raw(",\"tenantid\":")
        writer.string(tenantid)
        writer.raw(",\"time\":")
        writer.string(time)
        if let traceparent {
            writer.raw(",\"traceparent\":")
            writer.string(traceparent)
        }
        writer.raw(",\"type\":")
        writer.string(type)
        writer.raw("}")
    }

    /// The envelope's JSON text (what the outbox stores).
    package var jsonText: String {
        var writer = JSONWriter(capacity: 512 + data.text.utf8.count)
        write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Reads an envelope from its JSON text (the outbox's, or PostgreSQL's `jsonb` rendering of it) with
    /// `JSONValue(parsing:)`; the same result as `JSONDecoder`, at a fraction of the cost.
    package init(jsonText: String) throws {
        guard case .object(let members) = try JSONValue(parsing: jsonText) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "an event envelope is an object"))
        }
        func text(_ key: String) throws -> String {
            guard case .string(let value) = members[key] else {
                throw DecodingError.keyNotFound(
                    JSONKey(key), .init(codingPath: [], debugDescription: "the envelope has no text \(key)"))
            }
            return value
        }
        func optionalText(_ key: String) throws -> String? {
            switch members[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default:
                throw DecodingError.typeMismatch(
                    String.self, .init(codingPath: [JSONKey(key)], debugDescription: "\(key) is not text"))
            }
        }
        guard let data = members["data"] else {
            throw DecodingError.keyNotFound(JSONKey("data"), .init(codingPath: [], debugDescription: "no data"))
        }
        self.init(
            specversion: try text("specversion"), id: try text("id"), source: try text("source"),
            type: try text("type"), time: try text("time"), subject: try optionalText("subject"),
            datacontenttype: try text("datacontenttype"), tenantid: try text("tenantid"),
            traceparent: try optionalText("traceparent"),
            data: JSONDocument(unchecked: try data.encodedText()))
    }

    private init(
        specversion: String, id: String, source: String, type: String, time: String, subject: String?,
        datacontenttype: String, tenantid: String, traceparent: String?, data: JSONDocument
    ) {
        self.specversion = specversion
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.datacontenttype = datacontenttype
        self.tenantid = tenantid
        self.traceparent = traceparent
        self.data = data
    }
}
