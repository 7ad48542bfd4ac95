import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import Testing

/// Ways around the edge's checks that must not work.
@Suite struct EdgeHardeningTests {
    @Test func pathsAreMatchedInTheFormTheRouterServes() async throws {
        try await withGateway(routes: EdgeGatewayTests.policyRoutes) { client, _, _ in
            // Doubled and trailing slashes reach the same route, and its policy.
            #expect(try await client.execute(uri: "//members", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/admins/1/", method: .get).status == .unauthorized)
            // Dot segments and encoded separators are refused rather than guessed at.
            for path in ["/api/v1/local/../../members", "/members/%2e%2e/x", "/members%2Fx", "/a/%5c..%5c"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .badRequest, "\(path)")
            }
        }
    }

    @Test func requestPathNormalFormCollapsesSlashesAndRefusesDots() {
        #expect(RequestPath.normalize("//a///b/") == "/a/b")
        #expect(RequestPath.normalize("/") == "/")
        #expect(RequestPath.normalize("/a/./b") == nil)
        #expect(RequestPath.normalize("/a/%2E%2E/b") == nil)
        #expect(RequestPath.normalize("/a%00") == nil)
        #expect(RequestPath.normalize("/leads/o%27brien") == "/leads/o%27brien")
    }

    @Test func clientsCannotSpoofForwardedHeaders() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "e", "match": {"path_prefix": "/e"}, "upstream": "echo"}]}"#
            ) { client, _, _ in
                let response = try await client.execute(
                    uri: "/e", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"])
                #expect(try EdgeGatewayTests.json(response)["forwarded_for"] == "127.0.0.1")
            }
        }
    }

    @Test func oversizedUploadsAre413AndDoNotCountAgainstTheUpstream() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"], "eject_after_failures": 1, "breaker_failures": 2, "health_check": {"enabled": false}}}, "routes": [{"name": "u", "match": {"path_prefix": "/u"}, "upstream": "echo", "max_body_bytes": 1000, "inspection": "off"}]}"#
            ) { client, gateway, _ in
                for _ in 0..<4 {
                    let response = try await client.execute(
                        uri: "/u", method: .post, headers: [.transferEncoding: "chunked"],
                        body: ByteBuffer(repeating: 7, count: 5_000))
                    #expect(response.status == .contentTooLarge)
                }
                let status = try #require(gateway.runtimeForTesting?.routes.snapshot.pools["echo"]?.status(now: .now))
                #expect(status.breaker == "closed")
                #expect(status.targets.allSatisfy { !$0.ejected })
                #expect(try await client.execute(uri: "/u", method: .get).status == .ok)
            }
        }
    }

    @Test func bodiesWithoutJSONContentTypeAreInspectedToo() async throws {
        try await withGateway(routes: EdgeProtectionTests.inspectedRoutes) { client, _, _ in
            let untyped = try await client.execute(
                uri: "/guarded", method: .post,
                body: ByteBuffer(string: #"{"q": "1' UNION SELECT password FROM users --"}"#))
            #expect(untyped.status == .forbidden)
            let form = try await client.execute(
                uri: "/guarded", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "note=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"))
            #expect(form.status == .forbidden)
        }
    }

    @Test func aPreflightReachesARouteLimitedToOtherMethodsAndRefusalsCarryCORSHeaders() async throws {
        let routes = #"""
            {"routes": [{"name": "api", "match": {"path_prefix": "/api/v1/local/", "methods": ["GET"]}, "module": "local",
              "auth": "authenticated",
              "cors": {"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET"], "allowed_headers": ["Authorization"], "allow_credentials": true}}]}
            """#
        try await withGateway(routes: routes) { client, _, _ in
            let preflight = try await client.execute(
                uri: "/api/v1/local/hello", method: .options,
                headers: [
                    .origin: "https://app.example.com", .accessControlRequestMethod: "GET",
                    .accessControlRequestHeaders: "authorization",
                ])
            #expect(preflight.status == .noContent)
            let refused = try await client.execute(
                uri: "/api/v1/local/hello", method: .get, headers: [.origin: "https://app.example.com"])
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.accessControlAllowOrigin] == "https://app.example.com")
        }
    }

    @Test func aJSONAnswerThatCannotBeFilteredIsNotPassedOn() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "f", "match": {"path_prefix": "/broken"}, "upstream": "echo", "transform": {"remove_response_fields": ["secret"]}}]}"#
            ) { client, _, _ in
                let response = try await client.execute(
                    uri: "/broken/json", method: .get, headers: [.acceptEncoding: "gzip"])
                #expect(response.status == .badGateway)
            }
        }
    }

    @Test func externalIssuersMustNameTheAudience() throws {
        let configuration = try GatewayConfiguration.decode(
            Data(
                #"{"external_issuers": [{"issuer": "https://sso.example.com/realms/a", "jwks_url": "https://sso.example.com/certs", "tenant_id": "00000000-0000-0000-0000-0000000000aa"}]}"#
                    .utf8))
        #expect(throws: RouteTableError.self) {
            try RouteTable.compile(configuration, modules: [], localModules: [])
        }
    }
}

@Suite struct StreamingLeaseTests {
    @Test func aStreamingAnswerKeepsItsTargetBusyUntilItEnds() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"], "balance": "least_connections", "health_check": {"enabled": false}}}, "routes": [{"name": "s", "match": {"path_prefix": "/slow"}, "upstream": "echo"}]}"#
            ) { client, gateway, _ in
                let pool = try #require(gateway.runtimeForTesting?.routes.snapshot.pools["echo"])
                let streaming = Task { try await client.execute(uri: "/slow/stream", method: .get) }
                var busyWhileStreaming = false
                for _ in 0..<50 where !busyWhileStreaming {
                    try await Task.sleep(for: .milliseconds(20))
                    busyWhileStreaming = pool.status(now: .now).targets[0].inFlight == 1
                }
                let response = try await streaming.value
                #expect(String(buffer: response.body).contains("data: 4"))
                #expect(busyWhileStreaming)
                var idle = false
                for _ in 0..<50 where !idle {
                    idle = pool.status(now: .now).targets[0].inFlight == 0
                    if !idle { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(idle)
            }
        }
    }
}
