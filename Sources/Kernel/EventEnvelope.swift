import Foundation

/// A domain event as a CloudEvents 1.0 JSON envelope with the `tenantid` and `traceparent` extensions.
public struct EventEnvelope: Hashable, Sendable, Codable {
    public let specversion: String
    public let id: String
    public let source: String
    public let type: String
    public let time: String
    public let subject: String?
    public let datacontenttype: String
    public let tenantid: String
    public let traceparent: String?
    /// The event payload as a JSON document (kept as bytes so the envelope stays `Sendable` and exact).
    public let data: JSONDocument

    public init(
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
