import Foundation
import Gateway
import Kernel
import Platform
import Testing

/// The edge checks' order, as every path (ordinary, fast, upgrade) is handed it by `EdgeChecks`.
@Suite struct EdgeChecksTests {
    static let routes = #"""
        {"default_rate_limits": [{"key": "tenant", "limit": 100, "period_seconds": 60}],
         "routes": [{"name": "everything", "match": {"path_prefix": "/api/v1/local/"}, "module": "local",
                     "auth": "authenticated", "inspection": "block", "max_body_bytes": 1000,
                     "cors": {"allowed_origins": ["https://app.example.com"]},
                     "rate_limits": [{"key": "ip", "limit": 10, "period_seconds": 60}]},
                    {"name": "bare", "match": {"path_prefix": "/bare/"}, "module": "local", "default_rate_limits": false}]}
        """#

    /// Runs the checks to the end, reporting `principal` when asked to authenticate and a plan when asked for one;
    /// returns the names of the steps handed out.
    static func steps(
        _ runtime: GatewayRuntime, path: String, kind: EdgeChecks.Kind, address: String? = "10.0.0.1",
        principal: Principal?, tenant: TenantID?
    ) throws -> [String] {
        let edge = runtime.edge
        let table = runtime.routes.snapshot.table
        let (route, _) = try #require(table.match(host: Substring?.none, path: Substring(path), method: .get))
        var checks = EdgeChecks(
            edge: edge, route: route, table: table, kind: kind, address: address, path: Substring(path))
        var names: [String] = []
        while true {
            switch checks.next() {
            case .refuse(let problem, let blocked): names.append("refuse \(problem.status.code) \(blocked ?? "-")")
            case .cors: names.append("cors")
            case .limitBody(let limit): names.append("limitBody \(limit)")
            case .inspect: names.append("inspect")
            case .authenticate:
                names.append("authenticate")
                checks.authenticated(principal: principal, tenant: tenant)
            case .lookUpPlan:
                names.append("lookUpPlan")
                checks.planned(nil)
            case .countLimits(let limits):
                names.append("countLimits \(limits.map { $0.policy }.joined(separator: ","))")
            case .passed:
                names.append("passed")
                return names
            }
            // A refusal ends the request on every path.
            if names.last?.hasPrefix("refuse") == true { return names }
        }
    }

    @Test func everyCheckComesInTheOneOrder() async throws {
        try await withGateway(routes: Self.routes) { _, gateway, _ in
            let edge = try #require(gateway.runtimeForTesting)
            let tenant = TenantID.generate()
            let user = Principal(subject: "u1", kind: .user, permissions: [])
            #expect(
                try Self.steps(edge, path: "/api/v1/local/hello", kind: .request, principal: user, tenant: tenant) == [
                    "cors", "limitBody 1000", "inspect", "authenticate", "lookUpPlan", "countLimits ip,tenant",
                    "passed",
                ])
            // An upgrade: the origin is checked even without a CORS policy; no body limit (inspection is on by
            // default).
            #expect(
                try Self.steps(edge, path: "/bare/x", kind: .upgrade, principal: nil, tenant: nil) == [
                    "cors", "inspect", "authenticate", "passed",
                ])
            // Anonymous on an authenticated route: refused after the credentials, before any limit is counted.
            #expect(
                try Self.steps(edge, path: "/api/v1/local/hello", kind: .request, principal: nil, tenant: nil) == [
                    "cors", "limitBody 1000", "inspect", "authenticate", "refuse 401 -",
                ])
        }
    }
}
