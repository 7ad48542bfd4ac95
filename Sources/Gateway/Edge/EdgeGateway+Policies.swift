import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore
import Platform

extension EdgeGateway {
    /// The refusal of `policy` for `principal`: 401 without a principal where one is needed, 403 without a
    /// required permission; nil when the policy lets the request through.
    static func refusal(_ policy: Route.AuthPolicy, principal: Principal?) -> Problem? {
        switch policy {
        case .public:
            return nil
        case .authenticated:
            return principal == nil ? Problem.unauthorized() : nil
        case .permissions(let required):
            guard let principal else { return Problem.unauthorized() }
            let missing = required.subtracting(principal.permissions)
            guard missing.isEmpty else {
                return Problem(
                    status: .forbidden,
                    detail:
                        "this route needs the \(missing.map(\.description).sorted().joined(separator: ", ")) permission"
                )
            }
            return nil
        }
    }

    /// The counters a request touches: one per rule whose key the request has (an API-key rule does not apply to
    /// a user's token, a user rule not to an anonymous caller). `scope` is the route's name, or `default` for the
    /// quotas shared by all routes.
    static func limitChecks(
        rules: [RateLimitRule], scope: String, principal: Principal?, tenant: TenantID?, address: String?,
        plan: String?
    ) -> [RateLimitCheck] {
        rules.compactMap { rule in
            let value: String?
            switch rule.key {
            case .apiKey: value = principal.flatMap { $0.kind == .apiKey ? $0.subject : nil }
            case .user: value = principal.flatMap { $0.kind == .user ? $0.subject : nil }
            case .tenant: value = tenant?.description
            case .ip: value = address
            }
            guard let value else { return nil }
            // The limit is part of the key: a tenant moving to another plan starts a counter of its own size.
            let limit = rule.limit(forPlan: plan)
            return RateLimitCheck(
                key: "\(scope):\(rule.key.rawValue):\(Int(rule.period)):\(limit):\(value)",
                limit: limit, period: rule.period, policy: rule.key.rawValue)
        }
    }

    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10): every policy, and the state
    /// of each.
    static func rateLimitHeaders(checks: [RateLimitCheck], decisions: [RateLimitDecision]) -> HTTPFields {
        guard !checks.isEmpty else { return [:] }
        let policies = checks.map { "\"\($0.policy)\";q=\($0.limit);w=\(Int($0.period))" }
        let states = zip(checks, decisions).map { check, decision in
            let reset: Double = decision.reset.rounded(.up)
            return "\"\(check.policy)\";r=\(decision.remaining);t=\(max(0, Int(reset)))"
        }
        return [.rateLimitPolicy: policies.joined(separator: ", "), .rateLimit: states.joined(separator: ", ")]
    }

    static func describe(period: Double) -> String {
        switch period {
        case 60: "minute"
        case 3_600: "hour"
        case 86_400: "day"
        default: "\(Int(period)) seconds"
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = max(0, duration.nanoseconds / 1_000)
        // `String(format:)` costs more than the rest of this header; three decimals by integer arithmetic.
        let fraction = String(microseconds % 1_000)
        return "\(microseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Buffers a JSON answer (up to 8 MiB) to remove the route's fields; other types stream through unchanged. A
    /// JSON answer that is larger, or does not parse, is not passed on with the fields it was meant to lose: 502.
    static func removeFields(_ response: Response, _ transform: RouteTransform) async throws -> Response {
        guard response.headers[.contentType]?.contains("json") == true else { return response }
        var response = response
        let collector = BufferCollector(limit: 8 * 1_048_576)
        do { try await response.body.write(collector.writer) } catch {
            throw Problem(status: .badGateway, detail: "the upstream's answer could not be filtered")
        }
        guard let edited = transform.removeFields(fromJSON: Data(buffer: collector.buffer)) else {
            throw Problem(status: .badGateway, detail: "the upstream's answer could not be filtered")
        }
        response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: edited))
        response.headers[.contentLength] = nil
        return response
    }
}
