import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Platform
import TestSupport
import Testing

@Suite struct GatewayObservabilityTests {
    static func routes(_ port: Int) -> String {
        #"""
        {"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"], "health_check": {"enabled": false}}},
         "routes": [{"name": "echo", "match": {"path_prefix": "/e"}, "upstream": "echo",
                     "rate_limits": [{"key": "ip", "limit": 1, "period_seconds": 60}]}]}
        """#
    }

    @Test func metricsCountRequestsPerRouteAndUpstreamAndLimiterDecisions() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, _, _ in
                _ = try await client.execute(uri: "/e/1", method: .get)
                _ = try await client.execute(uri: "/e/2", method: .get)
                _ = try await client.execute(uri: "/e/3?q=%3Cscript%3Ealert(1)%3C/script%3E", method: .get)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"gateway_requests_total{route="echo",upstream="echo",status="200"} 1"#))
                #expect(metrics.contains(#"gateway_requests_total{route="echo",upstream="local",status="429"} 1"#))
                #expect(
                    metrics.contains(
                        #"gateway_rate_limit_decisions_total{route="echo",policy="ip",decision="refused"} 1"#))
                #expect(metrics.contains(#"gateway_inspection_matches_total{rule="xss-script-tag",action="block"} 1"#))
                #expect(metrics.contains(#"gateway_upstream_duration_seconds_count{route="echo",upstream="echo"} 1"#))
                #expect(metrics.contains(#"http_requests_total{route="gateway:echo",method="GET",status="200"} 1"#))
            }
        }
    }

    @Test func readinessReportsUpstreamsAndTheRateLimitMode() async throws {
        try await withGateway(
            routes:
                #"{"upstreams": {"api": {"targets": ["http://127.0.0.1:1", "http://127.0.0.1:2"], "health_check": {"enabled": false}}}, "routes": []}"#
        ) { client, _, _ in
            let ready = String(buffer: try await client.execute(uri: "/ready", method: .get).body)
            let details = try #require(
                (try JSONSerialization.jsonObject(with: Data(ready.utf8)) as? [String: Any])?["details"]
                    as? [String: String])
            #expect(details["upstreams"] == "api 2/2 usable, circuit closed")
            #expect(details["rate_limits"] == "local counters (no redis_url)")
        }
    }

    @Test func theAccessLogNamesRouteUpstreamAndUpstreamLatency() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID()).log").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let sink = LogSink(fileDescriptor: handle.fileDescriptor, immediate: true)
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port), accessLog: sink) { client, _, _ in
                _ = try await client.execute(uri: "/e/1", method: .get, headers: [.authorization: "Bearer test:ann:"])
            }
        }
        try handle.close()
        let line = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first)
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(fields["gateway.route"] as? String == "echo")
        #expect(fields["gateway.upstream"] as? String == "echo")
        #expect((fields["gateway.upstream.address"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
        #expect((fields["gateway.upstream.duration"] as? Int ?? 0) > 0)
        #expect(fields["http.response.status_code"] as? Int == 200)
        #expect(fields["user.id"] as? String == "ann")
        #expect(fields["tenant.id"] as? String == TestAuthenticator.tenant.description)
        #expect((fields["trace.id"] as? String)?.count == 32)
        #expect(fields["http.response.body.bytes"] as? Int ?? 0 > 0)
    }
}
