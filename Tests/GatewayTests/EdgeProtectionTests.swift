import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import Testing

@Suite struct EdgeProtectionTests {
    static let corsRoutes = #"""
        {"routes": [{"name": "api", "match": {"path_prefix": "/api/v1/local/"}, "module": "local",
          "cors": {"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "PATCH"],
                   "allowed_headers": ["Authorization", "Content-Type"], "allow_credentials": true, "max_age": 600}}]}
        """#

    @Test func anAllowedPreflightIsAnsweredAtTheEdgeWithTheAllowHeaders() async throws {
        try await withGateway(routes: Self.corsRoutes) { client, _, _ in
            let response = try await client.execute(
                uri: "/api/v1/local/hello", method: .options,
                headers: [
                    .origin: "https://app.example.com", .accessControlRequestMethod: "PATCH",
                    .accessControlRequestHeaders: "content-type,authorization",
                ])
            #expect(response.status == .noContent)
            #expect(response.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(response.headers[.accessControlAllowCredentials] == "true")
            #expect(response.headers[.accessControlAllowMethods]?.contains("PATCH") == true)
            #expect(response.headers[.accessControlMaxAge] == "600")
            #expect(response.headers[values: .vary].contains { $0.contains("Origin") })
        }
    }

    @Test func aPreflightFromAnotherOriginGetsNoAllowHeaders() async throws {
        try await withGateway(routes: Self.corsRoutes) { client, _, _ in
            let response = try await client.execute(
                uri: "/api/v1/local/hello", method: .options,
                headers: [.origin: "https://evil.example", .accessControlRequestMethod: "PATCH"])
            #expect(response.status == .forbidden)
            #expect(response.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func actualResponsesCarryTheOriginOnlyForAllowedOrigins() async throws {
        try await withGateway(routes: Self.corsRoutes) { client, _, _ in
            let allowed = try await client.execute(
                uri: "/api/v1/local/hello", method: .get, headers: [.origin: "https://app.example.com"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example.com")
            let other = try await client.execute(
                uri: "/api/v1/local/hello", method: .get, headers: [.origin: "https://evil.example"])
            #expect(other.status == .ok)
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func aCORSPolicyWithWildcardAndCredentialsIsRefusedInTheFile() {
        #expect(throws: RouteTableError.self) {
            try GatewayConfiguration.decode(
                Data(
                    #"{"routes": [{"name": "r", "match": {"path_prefix": "/"}, "module": "m", "cors": {"allowed_origins": ["*"], "allow_credentials": true}}]}"#
                        .utf8))
        }
    }

    static let inspectedRoutes = #"""
        {"routes": [
          {"name": "watched", "match": {"path_prefix": "/api/v1/local/"}, "module": "local", "inspection": "log",
           "transform": {"rewrite_path": "/api/v1/local/hello"}},
          {"name": "guarded", "match": {"path_prefix": "/guarded"}, "module": "local",
           "transform": {"rewrite_path": "/api/v1/local/hello"}}
        ]}
        """#

    @Test func anAttackIsRefusedWith403OnAGuardedRoute() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, _, _ in
            let attack = try await client.execute(uri: "/guarded?q=1%27%20OR%201%3D1%20--", method: .get)
            #expect(attack.status == .forbidden)
            #expect(attack.headers[.contentType] == "application/problem+json")
            let benign = try await client.execute(uri: "/guarded?q=O%27Brien", method: .get)
            #expect(benign.status == .ok)
        }
    }

    @Test func anAttackInAJSONBodyIsRefused() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, _, _ in
            let attack = try await client.execute(
                uri: "/guarded", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"lead": {"note": "<script>alert(document.cookie)</script>"}}"#))
            #expect(attack.status == .forbidden)
        }
    }

    @Test func aRouteInLogModeLetsTheMatchThrough() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, _, _ in
            let response = try await client.execute(uri: "/api/v1/local/x?file=..%2F..%2Fetc%2Fpasswd", method: .get)
            #expect(response.status == .ok)
        }
    }

    @Test func scannersAreRefusedByTheirUserAgent() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, _, _ in
            let response = try await client.execute(
                uri: "/guarded", method: .get, headers: [.userAgent: "sqlmap/1.7.2#stable (https://sqlmap.org)"])
            #expect(response.status == .forbidden)
        }
    }

    @Test func aBlockedAddressIsRefusedUntilTheBlockIsRemoved() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, gateway, database in
            let runtime = try #require(gateway.runtimeForTesting)
            let tenant = try await TenantStore(database: database).create(slug: "ops", name: "Operators")
            let block = try await runtime.blocks.add(
                kind: .ip, value: "127.0.0.0/8", reason: "test", expiresAt: nil,
                actor: AuditEntry.Actor(kind: "user", id: "admin"), tenant: tenant.id, ip: nil, requestID: nil,
                now: Date())
            #expect(try await client.execute(uri: "/guarded", method: .get).status == .forbidden)
            _ = try await runtime.blocks.remove(
                id: block.id, actor: AuditEntry.Actor(kind: "user", id: "admin"), tenant: tenant.id, ip: nil,
                requestID: nil, now: Date())
            #expect(try await client.execute(uri: "/guarded", method: .get).status == .ok)
            let audit = try await database.read(tenant: tenant.id) { tx in
                try await AuditTrail().list(filter: AuditFilter(), limit: 10, before: nil, in: tx)
            }
            #expect(Set(audit.map(\.entry.action)) == ["gateway.block.added", "gateway.block.removed"])
        }
    }

    @Test func anExpiredBlockNoLongerApplies() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, gateway, database in
            let runtime = try #require(gateway.runtimeForTesting)
            let tenant = try await TenantStore(database: database).create(slug: "ops", name: "Operators")
            _ = try await runtime.blocks.add(
                kind: .ip, value: "127.0.0.1", reason: "test", expiresAt: Date().addingTimeInterval(-1),
                actor: AuditEntry.Actor(kind: "user", id: "admin"), tenant: tenant.id, ip: nil, requestID: nil,
                now: Date().addingTimeInterval(-60))
            #expect(try await client.execute(uri: "/guarded", method: .get).status == .ok)
        }
    }

    @Test func ipRangesMatchTheirAddressesOnly() throws {
        let range = try #require(IPRange("203.0.113.0/24"))
        #expect(range.contains("203.0.113.77"))
        #expect(!range.contains("203.0.114.1"))
        #expect(range.contains("::ffff:203.0.113.5"))
        let v6 = try #require(IPRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::1"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(IPRange("300.1.1.1") == nil)
        #expect(IPRange("10.0.0.0/33") == nil)
        #expect(IPRange("10.1.2.3/8")?.description == "10.0.0.0/8")
    }

    @Test func theTraceContinuesToTheUpstreamAsAChildSpan() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "e", "match": {"path_prefix": "/e"}, "upstream": "echo"}]}"#
            ) { client, _, _ in
                let sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                let response = try await client.execute(
                    uri: "/e", method: .get, headers: [HTTPField.Name("traceparent")!: sent])
                let upstream = try #require(try EdgeGatewayTests.json(response)["traceparent"])
                let parts = upstream.split(separator: "-")
                #expect(parts.count == 4)
                #expect(parts[1] == "4bf92f3577b34da6a3ce929d0e0e4736")
                #expect(parts[2] != "00f067aa0ba902b7")
                #expect(parts[3] == "01")
            }
        }
    }

    @Test func aRequestWithoutTraceGetsANewOne() async throws {
        try await withGateway(routes: Self.inspectedRoutes) { client, _, _ in
            let response = try await client.execute(uri: "/guarded", method: .get)
            let header = try #require(response.headers[HTTPField.Name("traceparent")!])
            #expect(TraceContext(traceparent: header) != nil)
        }
    }
}
