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
