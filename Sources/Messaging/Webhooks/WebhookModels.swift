import Foundation
import Kernel

/// A tenant's endpoint that receives its events, signed per Standard Webhooks.
package struct WebhookEndpoint: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable { case active, disabled }
    package let id: ID<WebhookEndpoint>
    package var url: String
    package var description: String
    /// Event types delivered (`*` for all).
    package var eventTypes: [String]
    package var status: Status
    package var disabledReason: String?
    package var failureStreak: Int
    package var createdBy: String?
    package var version: Int
    package let createdAt: Date
    package var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, url, description, status, version
        case eventTypes = "event_types"
        case disabledReason = "disabled_reason"
        case failureStreak = "failure_streak"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Whether events of `type` go to this endpoint.
    func accepts(_ type: String) -> Bool {
        eventTypes.contains("*") || eventTypes.contains(type)
            || eventTypes.contains { $0.hasSuffix(".*") && type.hasPrefix($0.dropLast()) }
    }
}

/// One event on its way to one endpoint, with its outcome so far.
package struct WebhookDelivery: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable, CaseIterable { case pending, succeeded, failed }
    package let id: ID<WebhookDelivery>
    package let endpointID: ID<WebhookEndpoint>
    package let eventID: String
    package let eventType: String
    package let payload: String
    package var status: Status
    package var attempts: Int
    package var lastStatusCode: Int?
    package var lastError: String?
    package let createdAt: Date
    package var completedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, payload, status, attempts
        case endpointID = "endpoint_id"
        case eventID = "event_id"
        case eventType = "event_type"
        case lastStatusCode = "last_status_code"
        case lastError = "last_error"
        case createdAt = "created_at"
        case completedAt = "completed_at"
    }
}

/// One HTTP try of a delivery, as the delivery log shows it.
package struct WebhookAttempt: Sendable, Codable, Equatable {
    package let attempt: Int
    package let statusCode: Int?
    package let error: String?
    package let responseBody: String?
    package let durationMilliseconds: Int
    package let attemptedAt: Date

    enum CodingKeys: String, CodingKey {
        case attempt, error
        case statusCode = "status_code"
        case responseBody = "response_body"
        case durationMilliseconds = "duration_ms"
        case attemptedAt = "attempted_at"
    }
}
