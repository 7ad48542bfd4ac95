import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import Synchronization
import TestSupport
import Testing

/// The gateway's event-loop fast path: it must answer exactly as the ordinary (router) path does, take the
/// requests it can, leave the others, and keep HTTP/1.1's rules (order of pipelined answers, idle connections).
@Suite struct FastPathTests {
    static func routes(_ port: Int, dead: Int? = nil) -> String {
        let targets = (dead.map { ["\"http://127.0.0.1:\($0)\""] } ?? []) + ["\"http://127.0.0.1:\(port)\""]
        return """
            {"default_rate_limits": [],
             "upstreams": {"echo": {"targets": [\(targets.joined(separator: ","))], "retries": 2, "retry_budget_percent": 100}},
             "routes": [
               {"name": "echo", "match": {"path_prefix": "/echo"}, "upstream": "echo",
                "transform": {"strip_prefix": "/echo", "request_headers": {"add": {"X-Added": "yes"}},
                              "response_headers": {"remove": ["X-Upstream"], "add": {"X-Served-By": "gateway"}}},
                "rate_limits": [{"key": "ip", "limit": 1000, "period_seconds": 60}]},
               {"name": "tight", "match": {"path_prefix": "/tight"}, "upstream": "echo", "inspection": "off",
                "rate_limits": [{"key": "ip", "limit": 2, "period_seconds": 60}]},
               {"name": "private", "match": {"path_prefix": "/private"}, "upstream": "echo", "auth": "authenticated",
                "rate_limits": [{"key": "user", "limit": 1000, "period_seconds": 60}]},
               {"name": "hello", "match": {"path_prefix": "/hello"}, "module": "local",
                "transform": {"rewrite_path": "/api/v1/local/hello"}}
             ]}
            """
    }

    /// Headers that differ between any two answers (ids, times).
    static let volatile: Set<String> = ["date", "x-request-id", "traceparent", "x-inopsio-gateway-latency"]

    static func comparable(_ response: TestResponse) -> [String: String] {
        var fields: [String: String] = [:]
        for field in response.headers where !volatile.contains(field.name.canonicalName) {
            var value = field.value
            // The seconds until the window resets depend on when the request came.
            if field.name.canonicalName == "ratelimit", let reset = value.range(of: ";t=") {
                value = String(value[..<reset.lowerBound])
            }
            fields[field.name.canonicalName, default: ""] += value + ";"
        }
        fields["status"] = "\(response.status.code)"
        fields["body"] = String(buffer: response.body)
        return fields
    }

    static func fastPathCount(_ client: any TestClientProtocol, route: String) async throws -> Int {
        let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        let prefix = #"gateway_fast_path_requests_total{route="\#(route)"} "#
        guard let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(Double(line.dropFirst(prefix.count)) ?? 0)
    }

    /// The same requests through a gateway with and without the fast path: identical answers, and only the first
    /// took the fast path.
    @Test func fastAndOrdinaryPathsAnswerAlike() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            let answers = Mutex<[Bool: [[String: String]]]>([:])
            for fastPath in [true, false] {
                try await withGateway(routes: Self.routes(port), fastPath: fastPath) { client, _, _ in
                    var collected: [[String: String]] = []
                    let headers: HTTPFields = [
                        HTTPField.Name("X-Forwarded-For")!: "6.6.6.6", HTTPField.Name("X-Hop")!: "dropped",
                        .connection: "X-Hop", HTTPField.Name("X-Request-ID")!: "client-id-1",
                    ]
                    for uri in [
                        "/echo/a/b?x=1", "/echo//a//b/", "/echo/a/%2e%2e/b",
                        "/echo/x?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                    ] {
                        let response = try await client.execute(uri: uri, method: .get, headers: headers)
                        var fields = Self.comparable(response)
                        if response.status == .ok {
                            // The trace id is new per request; the rest of what the upstream saw must match.
                            var seen = try EdgeGatewayTests.json(response)
                            #expect(seen["traceparent"]?.hasPrefix("00-") == true)
                            seen["traceparent"] = nil
                            fields["body"] = seen.sorted { $0.key < $1.key }.description
                            #expect(response.headers[HTTPField.Name("X-Request-ID")!] == "client-id-1")
                        }
                        collected.append(fields)
                    }
                    let post = try await client.execute(
                        uri: "/echo/upload", method: .post, headers: [.contentType: "application/octet-stream"],
                        body: ByteBuffer(repeating: 7, count: 300_000))
                    var fields = Self.comparable(post)
                    var seen = try EdgeGatewayTests.json(post)
                    seen["traceparent"] = nil
                    fields["body"] = seen.sorted { $0.key < $1.key }.description
                    collected.append(fields)
                    answers.withLock { $0[fastPath] = collected }
                    let count = try await Self.fastPathCount(client, route: "echo")
                    if fastPath { #expect(count == 2) } else { #expect(count == 0) }
                }
            }
            let fast = try requireValue(answers.withLock { $0[true] })
            let ordinary = try requireValue(answers.withLock { $0[false] })
            #expect(fast.count == ordinary.count)
            for (one, other) in zip(fast, ordinary) { #expect(one == other) }
            // What the upstream saw: its own forwarded-for, no hop-by-hop header, the added header, the normal path.
            #expect(fast[0]["body"]?.contains(#"(key: "forwarded_for", value: "127.0.0.1")"#) == true)
            #expect(fast[0]["body"]?.contains(#"(key: "added", value: "yes")"#) == true)
            #expect(fast[1]["body"]?.contains(#"(key: "path", value: "/a/b")"#) == true)
            #expect(fast[2]["status"] == "400")
            #expect(fast[3]["status"] == "403")
            #expect(fast[0]["x-served-by"] == "gateway;")
            #expect(fast[0]["x-upstream"] == nil)
            #expect(fast[4]["body"]?.contains(#"(key: "size", value: "300000")"#) == true)
        }
    }

    /// Headers a `Connection` header names are hop-by-hop: dropped on either path.
    @Test func headersNamedByConnectionAreDropped() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            for fastPath in [true, false] {
                try await withGateway(routes: Self.routes(port), fastPath: fastPath) { client, _, _ in
                    let connection = try RawConnection(port: try requireValue(client.port))
                    try connection.send(
                        "GET /echo/a HTTP/1.1\r\nHost: localhost\r\nConnection: X-Hop\r\nX-Hop: dropped\r\n\r\n")
                    let responses = await connection.readResponses(1)
                    #expect(responses.first?.contains(#""connection_token":"""#) == true)
                    #expect(try await Self.fastPathCount(client, route: "echo") == (fastPath ? 1 : 0))
                }
            }
        }
    }

    /// Credentials known from memory take the fast path once the tenant's record is cached (its plan picks the
    /// limits); a bad token is refused with the ordinary 401 either way.
    @Test func cachedCredentialsTakeTheFastPath() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, _, _ in
                let good: HTTPFields = [.authorization: "Bearer test:alice:"]
                for _ in 0..<3 {
                    let response = try await client.execute(uri: "/private/x", method: .get, headers: good)
                    #expect(response.status == .ok)
                    #expect(try EdgeGatewayTests.json(response)["authorization"] == "Bearer test:alice:")
                    #expect(response.headers[HTTPField.Name("RateLimit-Policy")!] == #""user";q=1000;w=60"#)
                }
                // The first request read the tenant (the ordinary path); the next ones were decided from memory,
                // unless the tenant cache's 5 seconds ran out in between (a loaded CI machine): then one of them
                // read it again.
                let fast = try await Self.fastPathCount(client, route: "private")
                #expect((1...2).contains(fast))
                let bad = try await client.execute(
                    uri: "/private/x", method: .get, headers: [.authorization: "Bearer nonsense"])
                #expect(bad.status == .unauthorized)
                let anonymous = try await client.execute(uri: "/private/x", method: .get)
                #expect(anonymous.status == .unauthorized)
                #expect(try await Self.fastPathCount(client, route: "private") == fast)
            }
        }
    }

    /// A used-up local limit is answered on the fast path exactly as on the ordinary one.
    @Test func localLimitRefusalsMatchTheOrdinaryPath() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            let refusals = Mutex<[Bool: [String: String]]>([:])
            for fastPath in [true, false] {
                try await withGateway(routes: Self.routes(port), fastPath: fastPath) { client, _, _ in
                    for _ in 0..<2 { #expect(try await client.execute(uri: "/tight", method: .get).status == .ok) }
                    let refused = try await client.execute(uri: "/tight", method: .get)
                    #expect(refused.status == .tooManyRequests)
                    #expect(refused.headers[.retryAfter] != nil)
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    var fields = Self.comparable(refused)
                    let problem = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: refused.body))
                    #expect(problem["request_id"] != nil)
                    fields["body"] = "\(problem["detail"].map { "\($0)" } ?? "")"
                    fields["retry-after"] = nil
                    fields["ratelimit"] = nil
                    // The body carries the request id, whose length varies on the router's side (Hummingbird's ids
                    // do not pad their random half: 31 hex digits one time in 16).
                    fields["content-length"] = nil
                    refusals.withLock { $0[fastPath] = fields }
                    let count = try await Self.fastPathCount(client, route: "tight")
                    #expect(count == (fastPath ? 3 : 0))
                }
            }
            let (fast, ordinary) = refusals.withLock { ($0[true], $0[false]) }
            #expect(fast != nil && fast == ordinary, "fast \(fast ?? [:]) ordinary \(ordinary ?? [:])")
        }
    }

    /// Limits shared through Redis: the fast path asks the shared limiter (asynchronously) before going upstream,
    /// and refuses as the ordinary path does.
    @Test(.enabled(if: TestEnvironment.redisURL != nil || TestEnvironment.isCI, "needs INOPSIO_TEST_REDIS_URL"))
    func sharedLimitsAreCountedOnTheFastPath() async throws {
        let redis = try #require(TestEnvironment.redisURL)
        // A route name of its own, so that counters left in Redis by other runs do not count.
        let name = "shared\(UInt32.random(in: 0...UInt32.max))"
        try await withUpstream(EdgeGatewayTests.echo) { port in
            let routes = Self.routes(port).replacingOccurrences(of: "\"tight\"", with: "\"\(name)\"")
            try await withGateway(routes: routes, redisURL: "\(redis)?timeout_ms=5000") { client, _, _ in
                for _ in 0..<2 {
                    let response = try await client.execute(uri: "/tight", method: .get)
                    #expect(response.status == .ok)
                    #expect(response.headers[HTTPField.Name("RateLimit-Policy")!] == #""ip";q=2;w=60"#)
                }
                let refused = try await client.execute(uri: "/tight", method: .get)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.retryAfter] != nil)
                #expect(try await Self.fastPathCount(client, route: name) == 3)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"gateway_requests_total{route="\#(name)",upstream="local",status="429"} 1"#))
            }
        }
    }

    /// Pipelined requests, some proxied on the fast path and some answered by the router: the answers come back
    /// in the order of the requests.
    @Test func pipelinedAnswersKeepTheOrderOfRequests() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, _, _ in
                let connection = try RawConnection(port: try requireValue(client.port))
                let requests = ["/tight/one", "/hello", "/tight/two", "/hello"].map {
                    "GET \($0) HTTP/1.1\r\nHost: localhost\r\n\r\n"
                }
                try connection.send(requests.joined())
                let responses = await connection.readResponses(4)
                #expect(responses.count == 4)
                guard responses.count == 4 else { return }
                #expect(responses[0].contains(#""path":"\/tight\/one""#))
                #expect(responses[1].hasSuffix("hello anonymous"))
                #expect(responses[2].contains(#""path":"\/tight\/two""#))
                #expect(responses[3].hasSuffix("hello anonymous"))
            }
        }
    }

    /// A dead target: an idempotent request is retried on the live one; a POST is not, and gets a 502 problem.
    @Test func failedTargetsAreRetriedOrAnsweredWithAProblem() async throws {
        let dead = try closedPort()
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port, dead: dead)) { client, gateway, _ in
                for _ in 0..<4 { #expect(try await client.execute(uri: "/echo/x", method: .get).status == .ok) }
                #expect(try await Self.fastPathCount(client, route: "echo") == 4)
                let status = try requireValue(gateway.runtimeForTesting).routes.snapshot.pools["echo"]?.status(
                    now: .now)
                // The dead target was tried (and failed), the live one answered every request.
                #expect(status?.targets.allSatisfy { $0.inFlight == 0 } == true)
            }
        }
        let allDead = try closedPort()
        try await withGateway(routes: Self.routes(allDead)) { client, _, _ in
            let response = try await client.execute(
                uri: "/tight/x", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hi"))
            #expect(response.status == .badGateway)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(String(buffer: response.body).contains("could not be reached"))
        }
    }

    /// A target that does not answer within the try timeout gets the request answered 504, also on a kept-alive
    /// upstream connection whose previous request set the connection's (lazily moved) timer earlier.
    @Test func slowTargetsAnswer504AfterTheTryTimeout() async throws {
        let upstream: @Sendable (Router<BasicRequestContext>) -> Void = { router in
            router.get("quick") { _, _ in "quick" }
            router.get("slow") { _, _ in
                // Late for the try timeout, and only as long as the test runs (the server waits for it to end).
                let deadline = ContinuousClock.now + .seconds(30)
                while !Self.slowReleased.load(ordering: .relaxed) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                return "late"
            }
        }
        try await withUpstream(upstream) { port in
            let routes = """
                {"default_rate_limits": [],
                 "upstreams": {"u": {"targets": ["http://127.0.0.1:\(port)"], "retries": 0, "try_timeout_ms": 5000}},
                 "routes": [{"name": "u", "match": {"path_prefix": "/up"}, "upstream": "u", "inspection": "off",
                             "transform": {"strip_prefix": "/up"}}]}
                """
            try await withGateway(routes: routes) { client, _, _ in
                defer { Self.slowReleased.store(true, ordering: .relaxed) }
                let connection = try RawConnection(port: try requireValue(client.port))
                for _ in 0..<3 {
                    try connection.send("GET /up/quick HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    let quick = await connection.readResponses(1)
                    #expect(quick.first?.hasPrefix("HTTP/1.1 200") == true)
                    try await Task.sleep(for: .milliseconds(150))
                }
                try connection.send("GET /up/slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
                let slow = await connection.readResponses(1)
                #expect(slow.first?.hasPrefix("HTTP/1.1 504") == true)
                #expect(slow.first?.contains("did not answer in time") == true)
                #expect(try await Self.fastPathCount(client, route: "u") == 4)
            }
        }
    }

    static let slowReleased = Atomic<Bool>(false)

    /// A connection without requests is closed after the idle timeout; one with a request in progress is not.
    @Test func idleConnectionsAreClosed() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port), idleTimeout: .seconds(1)) { client, _, _ in
                let port = try requireValue(client.port)
                let idle = try RawConnection(port: port)
                #expect(await idle.readToEnd().closed)
                let used = try RawConnection(port: port)
                try used.send("GET /tight/a HTTP/1.1\r\nHost: localhost\r\n\r\n")
                let (text, closed) = await used.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 200"))
                #expect(closed)
                // The upstream is slow (a stream of five events 200 ms apart), longer than no request: still served.
                let slow = try RawConnection(port: port)
                try slow.send("GET /echo/slow/stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                let streamed = await slow.readToEnd().text
                #expect(streamed.contains("data: 4"))
            }
        }
    }

    /// A client that stops sending in the middle of its body is disconnected after the idle timeout, on either
    /// path (the ordinary path's router would otherwise wait for the body for ever).
    @Test func stalledBodiesAreCutOff() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port), idleTimeout: .seconds(1)) { client, _, _ in
                for path in ["/tight/upload", "/hello"] {
                    let connection = try RawConnection(port: try requireValue(client.port))
                    try connection.send(
                        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                            + "Content-Length: 100\r\n\r\n0123456789")
                    let (_, closed) = await connection.readToEnd()
                    #expect(closed, "\(path)")
                }
            }
        }
    }

    /// A client that leaves in the middle of a streamed answer: the upstream connection is dropped, the target's
    /// open-request count goes back to zero, and the gateway goes on serving.
    @Test func clientsLeavingMidAnswerFreeTheirTarget() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, gateway, _ in
                for _ in 0..<3 {
                    let connection = try RawConnection(port: try requireValue(client.port))
                    try connection.send("GET /echo/slow/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    _ = await connection.readResponses(1)
                    connection.close()
                }
                let pool = try requireValue(gateway.runtimeForTesting?.routes.snapshot.pools["echo"])
                var waited = 0
                while pool.status(now: .now).targets.contains(where: { $0.inFlight != 0 }) && waited < 100 {
                    try await Task.sleep(for: .milliseconds(100))
                    waited += 1
                }
                #expect(pool.status(now: .now).targets.allSatisfy { $0.inFlight == 0 })
                #expect(try await client.execute(uri: "/echo/after", method: .get).status == .ok)
            }
        }
    }

    /// An answer to HEAD has a length but no body: the connection goes on with the next request.
    @Test func headAnswersEndWithoutABody() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, _, _ in
                let connection = try RawConnection(port: try requireValue(client.port))
                try connection.send("HEAD /echo/a HTTP/1.1\r\nHost: localhost\r\n\r\n")
                try connection.send("GET /echo/b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                let (text, closed) = await connection.readToEnd()
                #expect(closed)
                #expect(text.components(separatedBy: "HTTP/1.1 ").count == 3)
                #expect(text.contains(#""path":"\/b""#))
                #expect(try await Self.fastPathCount(client, route: "echo") == 2)
            }
        }
    }

    /// A client that half-closes after its request still gets the answer, on either path.
    @Test func halfClosedClientsGetTheirAnswer() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, _, _ in
                for path in ["/echo/half", "/hello"] {
                    let connection = try RawConnection(port: try requireValue(client.port))
                    try connection.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    connection.shutdownWrite()
                    let (text, _) = await connection.readToEnd()
                    #expect(text.hasPrefix("HTTP/1.1 200"), "\(path): \(text)")
                }
                #expect(try await Self.fastPathCount(client, route: "echo") == 1)
            }
        }
    }

    /// An answer that comes before the whole body (the upstream is down): the rest of the body is read and
    /// dropped, and the connection serves the next request.
    @Test func aBodyAnsweredEarlyIsDrainedAndTheConnectionGoesOn() async throws {
        try await withGateway(routes: Self.routes(try closedPort())) { client, _, _ in
            let connection = try RawConnection(port: try requireValue(client.port))
            let body = String(repeating: "b", count: 1_000_000)
            try connection.send(
                "POST /tight/upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    + "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let responses = await connection.readResponses(2)
            #expect(responses.count == 2)
            #expect(responses.first?.hasPrefix("HTTP/1.1 502") == true)
            #expect(responses.last?.hasSuffix("hello anonymous") == true)
        }
    }

    /// Header limits: an oversized field is refused before any route sees it.
    @Test func oversizedHeadersAreRefused() async throws {
        try await withUpstream(EdgeGatewayTests.echo) { port in
            try await withGateway(routes: Self.routes(port)) { client, _, _ in
                let connection = try RawConnection(port: try requireValue(client.port))
                let big = String(repeating: "a", count: 20_000)
                try connection.send("GET /tight/a HTTP/1.1\r\nHost: localhost\r\nX-Big: \(big)\r\n\r\n")
                let (text, _) = await connection.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 400"))
                #expect(try await Self.fastPathCount(client, route: "tight") == 0)
            }
        }
    }
}
