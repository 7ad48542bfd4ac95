import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import TestSupport
import Testing

@Suite struct EdgeGatewayTests {
    /// An upstream that echoes what it received: method, path, selected headers, body size and digest.
    static func echo(_ router: Router<BasicRequestContext>) {
        router.on("**", method: .get) { request, _ -> Response in try await echoResponse(request) }
        router.on("**", method: .post) { request, _ -> Response in try await echoResponse(request) }
        router.get("/health") { _, _ in "ok" }
        router.get("/slow/stream") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    for index in 0..<5 {
                        try await writer.write(ByteBuffer(string: "data: \(index)\n\n"))
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("/broken/json") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{not json")))
        }
    }

    static func echoResponse(_ request: Request) async throws -> Response {
        var size = 0
        var digest = SHA256()
        for try await chunk in request.body {
            size += chunk.readableBytes
            digest.update(data: Data(buffer: chunk))
        }
        let sum = digest.finalize().map { String(format: "%02x", $0) }.joined()
        let object: [String: String] = [
            "method": request.method.rawValue, "path": request.uri.path, "query": request.uri.query ?? "",
            "host": request.head.authority ?? "",
            "forwarded_for": request.headers[HTTPField.Name("X-Forwarded-For")!] ?? "",
            "authorization": request.headers[.authorization] ?? "",
            "connection_token": request.headers[HTTPField.Name("X-Hop")!] ?? "",
            "added": request.headers[HTTPField.Name("X-Added")!] ?? "",
            "traceparent": request.headers[HTTPField.Name("traceparent")!] ?? "", "size": "\(size)", "sha256": sum,
            "secret": "s3cr3t",
        ]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", HTTPField.Name("X-Upstream")!: "yes", .connection: "close"],
            body: .init(byteBuffer: ByteBuffer(data: try JSONEncoder().encode(object))))
    }

    static func json(_ response: TestResponse) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(buffer: response.body))
    }

    @Test func requestsToARemoteUpstreamAreForwardedAndAnswered() async throws {
        try await withUpstream(Self.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "echo", "match": {"path_prefix": "/api/v1/echo/"}, "upstream": "echo"}]}"#
            ) { client, _, _ in
                let response = try await client.execute(
                    uri: "/api/v1/echo/items?a=1", method: .get,
                    headers: [.authorization: "Bearer test:u1:"])
                #expect(response.status == .ok)
                let echoed = try Self.json(response)
                #expect(echoed["path"] == "/api/v1/echo/items")
                #expect(echoed["query"] == "a=1")
                #expect(echoed["forwarded_for"] == "127.0.0.1")
                // The original token travels on, so the module can verify it again.
                #expect(echoed["authorization"] == "Bearer test:u1:")
                #expect(echoed["host"] == "localhost")
                #expect(response.headers[HTTPField.Name("X-Upstream")!] == "yes")
                #expect(response.headers[.connection] != "close")
                #expect(response.headers[HTTPField.Name("X-Inopsio-Gateway-Latency")!].flatMap(Double.init) != nil)
                #expect(response.headers[.xRequestID] != nil)
            }
        }
    }

    @Test func largeUploadsStreamThroughIntact() async throws {
        try await withUpstream(Self.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "upload", "match": {"path_prefix": "/upload"}, "upstream": "echo", "max_body_bytes": 20000000}]}"#
            ) { client, _, _ in
                var bytes = [UInt8](repeating: 0, count: 8_000_000)
                for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31) }
                let response = try await client.execute(
                    uri: "/upload/file", method: .post, headers: [.contentType: "application/octet-stream"],
                    body: ByteBuffer(bytes: bytes))
                let echoed = try Self.json(response)
                #expect(echoed["size"] == "8000000")
                #expect(echoed["sha256"] == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            }
        }
    }

    @Test func aBodyOverTheRouteLimitIsRefusedWith413() async throws {
        try await withUpstream(Self.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "upload", "match": {"path_prefix": "/upload"}, "upstream": "echo", "max_body_bytes": 1000}]}"#
            ) { client, _, _ in
                let response = try await client.execute(
                    uri: "/upload/file", method: .post, body: ByteBuffer(repeating: 1, count: 2_000))
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    static let policyRoutes = #"""
        {"routes": [
          {"name": "open", "match": {"path": "/api/v1/local/hello", "methods": ["GET"]}, "module": "local"},
          {"name": "members", "match": {"path_prefix": "/members"}, "module": "local", "auth": "authenticated",
           "transform": {"rewrite_path": "/api/v1/local/hello"}},
          {"name": "admins", "match": {"path": "/admins/{id}"}, "module": "local", "permissions": ["crm.leads:write"],
           "transform": {"rewrite_path": "/api/v1/local/hello"}}
        ]}
        """#

    @Test func publicRoutesLetAnonymousCallersThroughToTheModuleInProcess() async throws {
        try await withGateway(routes: Self.policyRoutes) { client, _, _ in
            let response = try await client.execute(uri: "/api/v1/local/hello", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "hello anonymous")
        }
    }

    @Test func theVerifiedPrincipalReachesTheModuleInTheRequestContext() async throws {
        try await withGateway(routes: Self.policyRoutes) { client, _, _ in
            let response = try await client.execute(
                uri: "/members", method: .get, headers: [.authorization: "Bearer test:alice:"])
            #expect(String(buffer: response.body) == "hello alice")
        }
    }

    @Test func anInvalidTokenIsRefusedEvenOnAPublicRoute() async throws {
        try await withGateway(routes: Self.policyRoutes) { client, _, _ in
            let response = try await client.execute(
                uri: "/api/v1/local/hello", method: .get, headers: [.authorization: "Bearer forged"])
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
        }
    }

    @Test func authenticatedRoutesRefuseAnonymousCallersWith401() async throws {
        try await withGateway(routes: Self.policyRoutes) { client, _, _ in
            let response = try await client.execute(uri: "/members", method: .get)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func permissionRoutesRefuseAPrincipalWithoutThePermissionWith403() async throws {
        try await withGateway(routes: Self.policyRoutes) { client, _, _ in
            let refused = try await client.execute(
                uri: "/admins/1", method: .get, headers: [.authorization: "Bearer test:bob:crm.leads:read"])
            #expect(refused.status == .forbidden)
            let allowed = try await client.execute(
                uri: "/admins/1", method: .get, headers: [.authorization: "Bearer test:carol:crm.leads:write"])
            #expect(allowed.status == .ok)
        }
    }

    @Test func aRouteLimitAnswers429WithRetryAfterAndRateLimitHeaders() async throws {
        let routes = #"""
            {"routes": [{"name": "form", "match": {"path_prefix": "/api/v1/local/"}, "module": "local",
              "rate_limits": [{"key": "ip", "limit": 3, "period_seconds": 900}]}]}
            """#
        try await withGateway(routes: routes) { client, _, _ in
            for remaining in [2, 1, 0] {
                let response = try await client.execute(uri: "/api/v1/local/hello", method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("RateLimit-Policy")!] == #""ip";q=3;w=900"#)
                #expect(response.headers[HTTPField.Name("RateLimit")!]?.hasPrefix(#""ip";r=\#(remaining);t="#) == true)
            }
            let refused = try await client.execute(uri: "/api/v1/local/hello", method: .get)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.contentType] == "application/problem+json")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap(Int.init))
            // The window's 900 s less the time since its first request (seconds on a loaded CI machine).
            #expect(retryAfter > 600 && retryAfter <= 900)
            #expect(refused.headers[HTTPField.Name("RateLimit")!]?.hasPrefix(#""ip";r=0;t="#) == true)
        }
    }

    @Test func failedIdempotentRequestsAreRetriedOnAnotherTargetAndTheDeadOneIsEjected() async throws {
        let dead = try closedPort()
        try await withUpstream(Self.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(dead)", "http://127.0.0.1:\#(port)"], "eject_after_failures": 2, "ejection_ms": 600000, "retry_budget_percent": 100, "connect_timeout_ms": 10000, "health_check": {"enabled": false}}}, "routes": [{"name": "echo", "match": {"path_prefix": "/e"}, "upstream": "echo"}]}"#
            ) { client, gateway, _ in
                // Ejection lasts long and every retry is allowed: on a loaded machine the six requests can take
                // longer than the default 10 s ejection, and a slow connect must not count as a dead target.
                for _ in 0..<6 {
                    let response = try await client.execute(uri: "/e/x", method: .get)
                    #expect(response.status == .ok)
                }
                let status = try #require(
                    gateway.runtimeForTesting?.routes.snapshot.pools["echo"]?.status(now: .now))
                #expect(status.targets.map(\.ejected) == [true, false])
            }
        }
    }

    @Test func aRequestWithABodyIsNotRetriedAndGets502() async throws {
        let dead = try closedPort()
        try await withGateway(
            routes:
                #"{"upstreams": {"dead": {"targets": ["http://127.0.0.1:\#(dead)"], "health_check": {"enabled": false}}}, "routes": [{"name": "d", "match": {"path_prefix": "/d"}, "upstream": "dead"}]}"#
        ) { client, _, _ in
            let response = try await client.execute(uri: "/d", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .badGateway)
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func anOpenCircuitAnswers503AtOnce() async throws {
        let dead = try closedPort()
        try await withGateway(
            routes:
                #"{"upstreams": {"dead": {"targets": ["http://127.0.0.1:\#(dead)"], "retries": 0, "breaker_failures": 2, "breaker_open_ms": 60000, "health_check": {"enabled": false}}}, "routes": [{"name": "d", "match": {"path_prefix": "/d"}, "upstream": "dead"}]}"#
        ) { client, _, _ in
            for _ in 0..<2 { #expect(try await client.execute(uri: "/d", method: .get).status == .badGateway) }
            let response = try await client.execute(uri: "/d", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "60")
        }
    }

    @Test func transformsEditHeadersAndRemoveResponseFields() async throws {
        try await withUpstream(Self.echo) { port in
            try await withGateway(
                routes:
                    #"{"upstreams": {"echo": {"targets": ["http://127.0.0.1:\#(port)"]}}, "routes": [{"name": "t", "match": {"path_prefix": "/legacy"}, "upstream": "echo", "transform": {"strip_prefix": "/legacy", "request_headers": {"add": {"X-Added": "yes"}}, "response_headers": {"remove": ["X-Upstream"], "add": {"X-Served-By": "gateway"}}, "remove_response_fields": ["secret"]}}]}"#
            ) { client, _, _ in
                let response = try await client.execute(uri: "/legacy/v1/items", method: .get)
                let echoed = try Self.json(response)
                #expect(echoed["path"] == "/v1/items")
                #expect(echoed["added"] == "yes")
                #expect(echoed["secret"] == nil)
                #expect(response.headers[HTTPField.Name("X-Upstream")!] == nil)
                #expect(response.headers[HTTPField.Name("X-Served-By")!] == "gateway")
            }
        }
    }

    @Test func anInvalidRouteFileOnReloadKeepsTheRoutesInForce() async throws {
        try await withGateway(routes: Self.policyRoutes) { client, gateway, _ in
            let store = try #require(gateway.runtimeForTesting?.routes)
            try Data(#"{"routes": [{"name": 1}]}"#.utf8).write(
                to: URL(fileURLWithPath: try #require(store.source.file)))
            guard case .failure(let error) = store.reload() else {
                Issue.record("a bad file was accepted")
                return
            }
            #expect(error.problems.first?.hasPrefix("routes[0].name") == true)
            #expect(try await client.execute(uri: "/members", method: .get).status == .unauthorized)
        }
    }
}

@Suite struct DefaultQuotaTests {
    static let routes = #"""
        {"default_rate_limits": [{"key": "user", "limit": 2, "period_seconds": 60},
                                 {"key": "tenant", "limit": 3, "period_seconds": 60, "plans": {"enterprise": 5}}],
         "routes": [
           {"name": "api", "match": {"path_prefix": "/api/v1/local/"}, "module": "local"},
           {"name": "exempt", "match": {"path_prefix": "/api/v1/exempt/"}, "module": "local", "default_rate_limits": false,
            "transform": {"rewrite_path": "/api/v1/local/hello"}},
           {"name": "page", "match": {"path_prefix": "/page"}, "module": "local", "transform": {"rewrite_path": "/api/v1/local/hello"}}
         ]}
        """#

    static func get(_ client: any TestClientProtocol, _ uri: String, user: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer test:\(user):"]).status
    }

    @Test func quotasCountEachUserAcrossAPIRoutes() async throws {
        try await withGateway(routes: Self.routes) { client, _, _ in
            var statuses: [HTTPResponse.Status] = []
            for path in ["/api/v1/local/hello", "/api/v1/local/other", "/api/v1/local/hello"] {
                statuses.append(try await Self.get(client, path, user: "ann"))
            }
            #expect(statuses == [.ok, .notFound, .tooManyRequests])
            // Pages are not API traffic, and a route may opt out.
            let page = try await Self.get(client, "/page", user: "ann")
            let exempt = try await Self.get(client, "/api/v1/exempt/x", user: "ann")
            #expect(page == .ok && exempt == .ok)
        }
    }

    @Test func aTenantOnTheEnterprisePlanGetsItsPlansLimit() async throws {
        try await withGateway(routes: Self.routes) { client, _, database in
            _ = try await database.system { tx in
                try await TenantStore.insert(
                    Tenant(
                        id: TestAuthenticator.tenant, slug: "big", name: "Big", status: .active, plan: "enterprise",
                        createdAt: Date()), in: tx)
            }
            var statuses: [HTTPResponse.Status] = []
            for user in ["a", "b", "c", "d", "e", "f"] {
                statuses.append(try await Self.get(client, "/api/v1/local/hello", user: user))
            }
            #expect(statuses == [.ok, .ok, .ok, .ok, .ok, .tooManyRequests])
        }
    }
}
